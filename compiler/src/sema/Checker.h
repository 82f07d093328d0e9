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
        TensorId next_id = 0;               // the id the next leaf layer gets
    };
    struct Context {
        bool frozen = false;
        bool augmentation_only = false;  // inside an `augmentation` declaration
        std::vector<std::string> stack;  // blocks being expanded, for recursion errors
    };
    Model check_model(const ast::Decl& d);
    void expand(const std::vector<ast::Stmt>& body, const Env& env, std::vector<LayerNode>& out, Scope& scope, Cursor& cur,
                const Context& ctx);
    void expand_layer(const ast::Stmt& s, const LayerKind& kind, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                      Cursor& cur, const Context& ctx);
    void expand_group(const ast::Stmt& s, const ast::Decl& group, const Env& env, std::vector<LayerNode>& out, Scope& scope,
                      Cursor& cur, const Context& ctx);
    bool read_input(const ast::Stmt& s, Cursor& cur);
    std::string unique_name(Scope& scope, const std::string& base, const std::optional<std::string>& given, SrcLoc loc);
    void lint_unused(const ast::Decl& d);

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
    bool check_loss_fit(const Model& m, const LossKind& loss, const BoundArgs& args, SrcLoc loc);
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
