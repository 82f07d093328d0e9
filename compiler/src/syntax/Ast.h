// The typed syntax tree of a .cnn file, built from ANTLR's parse tree by syntax/Parse.cpp. It keeps
// expressions unevaluated: block bodies are re-evaluated for each use with the block's arguments.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diag/Source.h"

namespace cnnc::ast {

struct Arg;

struct Expr {
    // Binary: arithmetic, a comparison, `and` or `or` (by `op`); Error: already reported.
    enum class Kind { Number, String, Bool, None, Ref, Call, Tuple, List, Dict, Neg, Not, Binary, Error };
    Kind kind = Kind::None;
    SrcLoc loc;
    bool is_int = false;            // Number: written without '.' or exponent
    int64_t int_value = 0;          // Number (is_int)
    double number = 0;              // Number
    bool bool_value = false;        // Bool
    std::string text;               // String contents; Call name; Ref joined with '.'
    std::vector<std::string> path;  // Ref: the dotted parts
    std::vector<Arg> args;          // Call; Dict: its entries, each named
    std::vector<Expr> items;        // Tuple, List; Neg, Not: 1 operand; Binary: 2 operands
    std::string op;                 // Binary: + - * / // % == != < <= > >= and or
};

struct Arg {
    std::string name;  // empty for a positional argument
    SrcLoc name_loc;
    Expr value;
};

struct Ident {  // a name with where it is written
    std::string name;
    SrcLoc loc;
    bool empty() const { return name.empty(); }
};

struct Stmt;

struct Branch {  // `branch { ... }`, a residual's body or its `shortcut { ... }`; empty: the identity
    SrcLoc loc;  // the keyword
    std::vector<Stmt> body;
};

struct Stmt {
    // Call: a layer or block (`input(...)` too); Repeat; Input: `input NAME(dims)`; From: `from
    // NAME`; Output: `output a, b`; Branches: a merge layer over `branch { }`s; Residual: an Add of
    // its body and its shortcut; If: `if cond { } else { }`.
    enum class Kind { Call, Repeat, Input, From, Output, Branches, Residual, If };
    Kind kind = Kind::Call;
    SrcLoc loc;  // the name (Call, Branches, Input) or the keyword
    std::string name;
    bool has_parens = false;
    std::vector<Arg> args;
    Expr count;       // Repeat
    Expr cond;        // If
    std::string var;  // Repeat: `repeat n as i` binds i = 1..n
    SrcLoc var_loc;
    std::vector<Stmt> body;         // Repeat
    std::vector<Branch> branches;   // Branches; Residual: its body, then its shortcut when written;
                                    // If: the body, then the `else` body when written (`else if`:
                                    // one If statement)
    Ident as;                       // `... as NAME`: names the statement's output
    std::vector<Ident> refs;        // From: the point; Output: the outputs; Input: the input's name
};

struct Field {
    std::string name;
    SrcLoc loc;
    Expr value;
};

struct Param {
    std::string name;
    SrcLoc loc;
    std::optional<Expr> default_value;
};

struct Decl {
    enum class Kind { Import, Dataset, Model, Block, Augmentation, Callbacks, Train, Evaluate };
    Kind kind = Kind::Model;
    SrcLoc loc;  // the keyword
    std::string name;
    SrcLoc name_loc;
    std::string import_path;    // Import
    std::vector<Param> params;  // Block
    std::vector<Stmt> body;     // Model, Block, Augmentation, Callbacks
    std::vector<Field> fields;  // Dataset, Train, Evaluate
    Expr target;                // Train, Evaluate: the data after `on`
};

struct File {
    int file_id = -1;
    std::vector<Decl> decls;
    bool unbalanced = false;  // a bracket is never closed: the declarations are unknown, none are kept
};

const char* decl_kind_name(Decl::Kind k);

}  // namespace cnnc::ast
