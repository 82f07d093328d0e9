// Internal to sema/: the checker's state, shared by Check.cpp (declarations), CheckModels.cpp
// (model expansion and shapes) and CheckTraining.cpp (datasets, callbacks, train, evaluate).
#pragma once
#include <map>
#include <optional>
#include <set>

#include "sema/Bind.h"
#include "sema/Check.h"
#include "sema/Eval.h"

namespace cnnc {

class Checker {
  public:
    Checker(const std::vector<ast::File>& files, Diagnostics& d) : files_(files), diags_(d) {}
    Program run();

  private:
    // Check.cpp
    void collect();
    const ast::Decl* lookup(const std::string& name) const;
    std::vector<std::string> names_of(ast::Decl::Kind k) const;

    // CheckModels.cpp
    struct Scope {  // layer names among siblings
        std::map<std::string, int> counters;
        std::map<std::string, SrcLoc> taken;
    };
    // A tensor of the model being expanded, by id (Cursor::made): what made it, for messages.
    struct Made {
        std::string what;  // "layer 'conv2d_1' (Conv2D)", "input 'image'"
        SrcLoc loc;
        std::optional<Shape> shape;
        ast::Ident named;  // the first `as` name it was given
        bool read = false;  // a layer reads it
    };
    // The tensor names one pair of braces defines; those of the braces around it are visible too,
    // except across a block's call (a block sees only its own parameters).
    struct Names {
        const Names* parent = nullptr;
        std::map<std::string, std::pair<TensorId, SrcLoc>> own;
    };
    struct Cursor {  // the shape flowing through the model being expanded
        std::optional<Shape> shape;
        bool broken = false;  // an upstream error: stop checking shapes, keep checking arguments
        bool first_layer = true;
        bool has_input = false;
        SrcLoc input_loc;
        int64_t layers = 0;
        bool aborted = false;  // too many layers: stop expanding
        SrcLoc trainable_loc;  // the first trainable layer with weights, if any (augmentation must come before it)
        TensorId tensor = input_tensor(0);  // the running tensor: what the next layer reads
        bool running = true;                // false until `from` picks one of several inputs
        TensorId next_id = 0;               // the id the next leaf layer gets
        std::vector<ModelInput> inputs;
        std::vector<Made> made_inputs, made;  // by input index and by leaf id
        Names* names = nullptr;               // the innermost braces' names
        std::vector<TensorId> outputs;        // from `output a, b`
        std::vector<std::string> output_names;  // a, b
        SrcLoc outputs_loc;
        Made& of(TensorId t) { return is_input(t) ? made_inputs.at(static_cast<size_t>(input_index(t))) : made.at(static_cast<size_t>(t)); }
    };
    class NestedNames;
    struct Context {
        bool frozen = false;
        bool augmentation_only = false;  // inside an `augmentation` declaration
        bool model_top = false;          // a model's own statements (not a block's, branch's or repeat's)
        std::vector<std::string> stack;  // blocks being expanded, for recursion errors
    };
    Model check_model(const ast::Decl& d);
    void expand(const std::vector<ast::Stmt>& body, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                const Context& ctx);
    void expand_repeat(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                       const Context& ctx);
    void expand_if(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                   const Context& ctx);
    void expand_layer(const ast::Stmt& s, const LayerKind& kind, const std::vector<ast::Arg>& args,
                      std::vector<TensorId> inputs, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                      const Context& ctx);
    void expand_call(const ast::Stmt& s, const LayerKind& kind, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                     Cursor& cur, const Context& ctx);
    void expand_branches(const ast::Stmt& s, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                         const Context& ctx);
    void expand_group(const ast::Stmt& s, const ast::Decl& group, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                      Cursor& cur, const Context& ctx);
    void report_not_merge(const ast::Stmt& s);
    bool merge_arity_ok(const LayerNode& node, const ast::Stmt& s);
    void report_merge(const LayerNode& node, const ast::Stmt& s, Cursor& cur, const std::string& why);
    bool read_input(const ast::Stmt& s, Cursor& cur);
    std::string unique_name(Scope& scope, const std::string& base, const std::optional<std::string>& given, SrcLoc loc);
    // Tensor names: `as`, `from`, `output`, merge and block arguments.
    void define(const ast::Ident& n, TensorId t, Cursor& cur);
    std::optional<TensorId> find_tensor(const std::string& n, const Cursor& cur) const;
    std::optional<TensorId> resolve(const ast::Ident& n, Cursor& cur);
    bool has_running(SrcLoc at, Cursor& cur);
    void check_dangling(const Model& m, Cursor& cur);
    void lint_unused(const ast::Decl& d);
    void lint_names(const std::vector<ast::Stmt>& stmts);

    // CheckTraining.cpp
    Dataset check_dataset(const ast::Decl& d);
    void check_member(Dataset& ds, const ast::Field& f);
    void check_source_args(const SourceKind& src, const BoundArgs& a);
    std::vector<CallbackSpec> check_callbacks(const std::vector<NamedValue>& calls);
    std::vector<CallbackSpec> check_callbacks_decl(const ast::Decl& d);
    std::optional<CallbackSpec> check_callback(const Value& v);
    struct Statement {  // what train and evaluate share: `MODEL on DATA { fields }`
        const Model* model = nullptr;
        DataRef data;
        BoundArgs fields;
    };
    bool single_in_out(const Model& m, SrcLoc at, const char* doing);
    std::optional<Statement> resolve_statement(const ast::Decl& d, const std::vector<ParamSpec>& schema);
    std::optional<TrainSpec> check_train(const ast::Decl& d);
    bool check_checkpoint_path(const CallbackSpec& cb, const TrainSpec& t, const std::vector<std::string>& reported);
    std::optional<EvaluateSpec> check_evaluate(const ast::Decl& d);
    std::optional<DataRef> resolve_data(const Value& v, const char* role);
    const Model* resolve_model(const std::string& name, SrcLoc loc);
    std::optional<BoundArgs> bind_fields(const std::vector<ast::Field>& fields, const std::vector<ParamSpec>& schema,
                                         const std::string& what, SrcLoc loc);
    template <class T>
    const T* resolve_named(const std::vector<T>& list, const Value& v, const char* family, std::optional<BoundArgs>& args);
    bool check_loss_fit(const Model& m, size_t output, const LossKind& loss, const BoundArgs& args, SrcLoc loc);
    // CheckTraining.cpp: loss, loss_weights and metrics for each of the model's outputs (null when
    // any is wrong; `metrics_known` false when the metrics could not be read).
    std::optional<std::vector<OutputTraining>> check_outputs(const Model& m, const BoundArgs& fields, bool& metrics_known);
    std::vector<std::optional<Value>> per_output(const Model& m, const Value& v, const char* field, bool list_in_order, bool& ok);
    bool check_metric_list(const Value& v, std::vector<std::string>& out);
    void check_arrays(const Model& m, const DataRef& ref);
    void check_labels(const Model& m, const Dataset& ds, const LossKind& loss, SrcLoc loss_loc, SrcLoc data_loc);
    void check_class_names(Dataset& ds, const Value& v);
    void check_data_shape(const Model& m, const DataRef& ref);
    bool check_features(const BoundArgs& args);
    std::optional<Shape> member_shape(const DatasetMember& mem);

    const std::vector<ast::File>& files_;
    Diagnostics& diags_;
    std::map<std::string, const ast::Decl*> decls_;
    std::set<std::string> used_groups_;
    std::map<std::string, std::vector<CallbackSpec>> callback_sets_;
    std::set<std::string> trained_models_;  // models a train statement names, checked or not
    // Declarations that failed to check ("model m", "dataset d", "d.member", "callbacks c"): their
    // error is reported once, where it is; whatever depends on them stays silent instead of adding
    // follow-on errors about a declaration that does not exist or lacks what failed.
    std::set<std::string> poisoned_;
    bool poisoned(const std::string& key) const { return poisoned_.count(key) > 0; }
    Program prog_;
};

}  // namespace cnnc
