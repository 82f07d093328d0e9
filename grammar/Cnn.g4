// The .cnn language. This grammar is the single source of truth for the syntax: the C++ parser is
// generated from it at build time (antlr4 -Dlanguage=Cpp). Layer, loss, optimizer, callback and
// augmentation names are plain identifiers here and are resolved through registries by the
// checker, so adding a layer never touches this file.
grammar Cnn;

file : item* EOF ;

item
    : 'import' STRING                                                      # importItem
    | 'dataset' name '{' field* '}'                                        # datasetItem
    | 'model' name '{' stmt* '}'                                           # modelItem
    | 'block' name ('(' (param (',' param)* ','?)? ')')? '{' stmt* '}'     # blockItem
    | 'augmentation' name '{' stmt* '}'                                    # augmentationItem
    | 'callbacks' name '{' stmt* '}'                                       # callbacksItem
    | 'train' name 'on' expr ('{' field* '}')?                             # trainItem
    | 'evaluate' name 'on' expr ('{' field* '}')?                          # evaluateItem
    ;

param : name ('=' expr)? ;

field : name '=' expr ';'? ;

// A model is a stack with named points and merges (docs/LANGUAGE.md, "Graphs"): each statement
// reads the running tensor, `as` names a statement's output and `from` makes a named point the
// running tensor again. Where a keyword could also start a call statement (`from`, `input NAME`,
// `output`), the keyword's alternative comes first, and ANTLR takes the first of two readings.
stmt
    : 'repeat' expr ('as' name)? '{' stmt* '}' as?                         # repeatStmt
    | ifChain as? ';'?                                                     # ifStmt
    | 'input' name '(' argList? ')' ';'?                                   # inputStmt
    | 'from' name ';'?                                                     # fromStmt
    | 'output' name (',' name)* ';'?                                       # outputStmt
    | 'residual' body ('shortcut' body)? as? ';'?                          # residualStmt
    | name ('(' argList? ')')? '{' branch+ '}' as? ';'?                    # branchesStmt
    | name ('(' argList? ')')? as? ';'?                                    # callStmt
    ;

body : '{' stmt* '}' ;

// A compile-time conditional: the checker expands the body whose condition holds and only checks
// the names in the others. `else if` chains nest.
ifChain : 'if' expr body ('else' (ifChain | body))? ;

branch : 'branch' body ;

as : 'as' name ;

argList : arg (',' arg)* ','? ;

arg : (name '=')? expr ;

// Earlier alternatives bind tighter, as in Python: unary minus, then * / // %, then + and -, then
// comparisons, then not, and, or.
expr
    : '-' expr                                                             # negExpr
    | expr op=('*' | '/' | '//' | '%') expr                                # mulExpr
    | expr op=('+' | '-') expr                                             # addExpr
    | expr op=('==' | '!=' | '<' | '<=' | '>' | '>=') expr                 # compareExpr
    | op='not' expr                                                        # notExpr
    | expr op='and' expr                                                   # andExpr
    | expr op='or' expr                                                    # orExpr
    | primary                                                              # primaryExpr
    ;

primary
    : NUMBER                                                               # numberLit
    | STRING                                                               # stringLit
    | ('true' | 'false')                                                   # boolLit
    | 'None'                                                               # noneLit
    | name '(' argList? ')'                                                # callExpr
    | name ('.' name)*                                                     # refExpr
    | '(' expr ')'                                                         # parenExpr
    | '(' (expr ',' (expr (',' expr)* ','?)?)? ')'                         # tupleExpr
    | '[' (expr (',' expr)* ','?)? ']'                                     # listExpr
    | '{' argList? '}'                                                     # dictExpr
    ;

// Keywords only mean something at the start of a declaration; anywhere a name is expected they
// are ordinary names (a dataset has a `train` member, a train statement a `callbacks` field).
// `and`, `or` and `not` are operators, reserved like `true`, `false` and `None`.
name
    : ID | 'import' | 'dataset' | 'model' | 'block' | 'augmentation' | 'callbacks'
    | 'train' | 'evaluate' | 'on' | 'repeat' | 'as'
    | 'input' | 'from' | 'output' | 'residual' | 'shortcut' | 'branch' | 'if' | 'else'
    ;

NUMBER  : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT? ;
fragment DIGITS   : [0-9] ('_'? [0-9])* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;
STRING  : '"' (~["\\\r\n] | '\\' .)* '"' | '\'' (~['\\\r\n] | '\\' .)* '\'' ;
ID      : [a-zA-Z_] [a-zA-Z_0-9]* ;
COMMENT : '#' ~[\r\n]* -> skip ;
WS      : [ \t\r\n]+ -> skip ;
// Anything else becomes a token the parser rejects with a located message, instead of a lexer
// error the user cannot place.
STRAY   : . ;
