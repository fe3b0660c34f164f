//! In-place writes: whether a statement may write into an array that already exists (`w += 1`,
//! `w[i] = v`, `w.add_(v)`, `np.copyto(w, v)`, `f(x, out=w)`, a call of one of the file's
//! functions that does), and whether the array a name holds is one the code made itself
//! (`w = torch.zeros_like(z)`), so that writing into it changes no other array.
//!
//! A rewrite that reads the logits again after the activation (`p = softmax(z)` ... `log(p)` →
//! `log_softmax(z)`) is right only when nothing in between wrote into them; names may alias (`w
//! = z`, `w = z[0]`, `w = z.detach()`), so any write refuses unless what it writes into is new.
//!
//! In the semantic model, not the rules, because which of the file's functions may write in
//! place is a fact ([`super::FactKey::InPlaceWrites`]): a function's cached findings hold while
//! the functions it calls are the same.

use std::rc::Rc;

use tree_sitter::Node;

use super::Model;
use super::apis;
use super::scope::Binding;
use super::value::Kind;
use crate::syntax::{Args, FIELD, KindName, unparenthesized};

/// How new the object an expression makes is ([`Model::fresh_value`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fresh {
    /// A new object, possibly a container of existing ones (`a + b` of two lists, `d.copy()`):
    /// writing into the object itself (`w += v`, `w[i] = v`, `w.add_(v)`) changes nothing else.
    Shallow,
    /// A new array with storage of its own (`torch.zeros_like(z)`, `np.array(z)`, `z.clone()`):
    /// writing into any element or view of it (`w[i][j] = v`, `w[i] += v`) changes nothing else.
    Array,
}

/// Which array a write writes into: the array a name holds (`w` of `w += v`, `w[i] = v`,
/// `w.add_(v)`), and whether through an element or a view of it (`w[i][j] = v`, `w[i] += v`,
/// `w[i].add_(v)`), where the element may be an array a container holds.
#[derive(Clone, Copy, Debug)]
pub struct Written<'a> {
    pub name: Node<'a>,
    pub deep: bool,
}

/// Library functions (leaf names) that return a new array with storage of its own, under
/// `torch`, `numpy` or `jax.numpy` (and `numpy.random`): creation, copies, joins.
const ARRAY_MAKERS: &[&str] = &[
    "zeros",
    "ones",
    "empty",
    "full",
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "eye",
    "arange",
    "linspace",
    "logspace",
    "rand",
    "randn",
    "randint",
    "rand_like",
    "randn_like",
    "randint_like",
    "normal",
    "uniform",
    "random",
    "tensor",
    "array",
    "copy",
    "clone",
    "cat",
    "concat",
    "concatenate",
    "stack",
];

/// Functions and methods that compute a new array from their operands (never a view of one,
/// without `out=`): `prob.pow(gamma)`, `torch.exp(z)`, `x.sum(1)`.
const COMPUTING: &[&str] = &[
    "exp",
    "log",
    "log1p",
    "expm1",
    "log2",
    "log10",
    "sqrt",
    "rsqrt",
    "abs",
    "neg",
    "pow",
    "square",
    "reciprocal",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "add",
    "sub",
    "subtract",
    "mul",
    "multiply",
    "div",
    "divide",
    "matmul",
    "mm",
    "bmm",
    "sum",
    "mean",
    "cumsum",
    "clamp",
    "clip",
    "maximum",
    "minimum",
];

/// Methods that may return their receiver itself or a view of it (`x.to(dtype)` returns `x`
/// when it has that dtype; `x.detach()` shares `x`'s storage): new exactly when the receiver is.
const ALIASING_METHODS: &[&str] = &[
    "to",
    "float",
    "double",
    "half",
    "bfloat16",
    "type",
    "type_as",
    "cpu",
    "cuda",
    "contiguous",
    "detach",
    "view",
    "view_as",
    "reshape",
    "reshape_as",
    "transpose",
    "permute",
    "squeeze",
    "unsqueeze",
    "flatten",
    "unflatten",
    "expand",
    "expand_as",
    "t",
    "narrow",
    "select",
    "movedim",
    "numpy",
    "astype",
    "ravel",
    "swapaxes",
];

/// Methods of a value that write into it in place besides PyTorch's trailing `_`, and NumPy
/// functions that write into their first argument: `a.put(i, v)`, `np.copyto(a, b)`,
/// `np.add.at(a, i, v)`.
const WRITING: &[&str] = &["at", "copyto", "put", "place", "putmask", "fill_diagonal"];

/// How deep calls of the file's functions nested in others are followed before a call counts
/// as writing.
const MAX_CALL_DEPTH: u32 = 8;

impl<'a> Model<'a> {
    /// The occurrences of `name` in `scope` (outside the functions, lambdas and classes nested
    /// in it) that may change what it holds, in source order: every occurrence but a plain read
    /// ([`Model::plain_read`]) and a name that reads no variable ([`names_no_value`]) under a
    /// keyword argument or an attribute. Built once per scope and name: a check that a name is
    /// not rebound between a binding and each of n reads looked at every occurrence in between,
    /// n² for a name read n times (`a_i = softmax(z)` ... `log(a_i)`). Not for every name of the
    /// scope at once: a keystroke in a function asks it of one or two names of that function.
    pub fn changing_occurrences(&self, scope: Node<'a>, name: &str) -> Rc<Vec<Node<'a>>> {
        let identifiers = self.identifiers(scope);
        // The name as the source spells it, to key the memo (the scope's index keeps it).
        let Some((&name, occurrences)) = identifiers.get_key_value(name) else { return Rc::default() };
        if let Some(found) = self.changing_occurrences.borrow().get(&(scope.id(), name)) {
            return found.clone();
        }
        let changing: Rc<Vec<Node<'a>>> = Rc::new(
            occurrences
                .iter()
                .copied()
                .filter(|&n| {
                    self.count_index_work(1);
                    let other =
                        self.parent(n).is_some_and(|p| matches!(p.kind_name(), "keyword_argument" | "attribute"))
                            && names_no_value(n);
                    !other && !self.plain_read(n)
                })
                .collect(),
        );
        self.changing_occurrences.borrow_mut().insert((scope.id(), name), changing.clone());
        changing
    }

    /// The first occurrence of `name` in `scope` at or after byte `from` that may change what
    /// it holds ([`Model::changing_occurrences`]) and that `keeps` does not excuse: what was true
    /// of the name at `from` holds until there.
    pub fn first_change_of(
        &self,
        scope: Node<'a>,
        name: &str,
        from: usize,
        keeps: impl Fn(Node<'a>) -> bool,
    ) -> Option<Node<'a>> {
        let changing = self.changing_occurrences(scope, name);
        let first = changing.partition_point(|n| n.start_byte() < from);
        self.count_index_work(1);
        changing[first..].iter().copied().find(|&n| !keeps(n))
    }

    /// An identifier read as a value, in a context that cannot rebind it.
    pub fn plain_read(&self, id: Node<'a>) -> bool {
        let Some(parent) = self.parent(id) else { return false };
        let field = |f| parent.child_by_field_id(f) == Some(id);
        match parent.kind_name() {
            "argument_list"
            | "binary_operator"
            | "comparison_operator"
            | "unary_operator"
            | "not_operator"
            | "boolean_operator"
            | "parenthesized_expression"
            | "return_statement"
            | "expression_statement"
            | "list"
            | "tuple"
            | "conditional_expression"
            | "expression_list" => true,
            "assignment" => field(FIELD.right),
            "keyword_argument" => field(FIELD.value),
            "subscript" => field(FIELD.value),
            // `z.argmax(1)` reads; `z.mul_(2)` writes in place.
            "attribute" => {
                field(FIELD.object)
                    && !parent.child_by_field_id(FIELD.attribute).is_some_and(|a| self.text(a).ends_with('_'))
            }
            _ => false,
        }
    }

    /// The nodes of `scope` (outside the functions, lambdas and classes nested in it) for which
    /// [`Model::writes_in_place`] with no `objects` may hold, whatever it spares, sorted by
    /// their start: every other node writes nothing. Built once per scope: a check between a
    /// binding and each of n uses walked the code between them, n² for n names bound and read
    /// far apart.
    pub fn may_write_in_place_in(&self, scope: Node<'a>) -> Rc<Vec<Node<'a>>> {
        if let Some(found) = self.in_place_candidates.borrow().get(&scope.id()) {
            return found.clone();
        }
        // In document order, so sorted by start.
        let mut found = Vec::new();
        crate::syntax::visit(scope, |n| {
            self.count_index_work(1);
            if n != scope && crate::syntax::is_scope(n.kind_name()) {
                return false;
            }
            if self.may_write_in_place(n) {
                found.push(n);
            }
            true
        });
        let found = Rc::new(found);
        self.in_place_candidates.borrow_mut().insert(scope.id(), found.clone());
        found
    }

    /// False where [`Model::writes_in_place`] with no `objects` is false whatever it spares
    /// (read from the syntax and the callee alone, no value).
    fn may_write_in_place(&self, node: Node<'a>) -> bool {
        match node.kind_name() {
            "augmented_assignment" => true,
            "assignment" => node.child_by_field_id(FIELD.left).is_none_or(|left| left.kind_name() != "identifier"),
            "call" => {
                let Some(function) = node.child_by_field_id(FIELD.function) else { return true };
                if self.text(function).contains(".data") {
                    return true;
                }
                let args = Args::of(node);
                if args.keyword(&["out", "inplace"], self.src).is_some() {
                    return true;
                }
                if function.kind_name() == "attribute"
                    && let Some(name) = function.child_by_field_id(FIELD.attribute).map(|a| self.text(a))
                    && ((name.ends_with('_') && !name.starts_with('_')) || WRITING.contains(&name))
                {
                    return true;
                }
                self.local_callee(node).is_some()
            }
            _ => false,
        }
    }

    /// `node` may write into an existing array in place: an augmented assignment to anything
    /// but a name holding a Python number, an assignment to an element or an attribute, a call
    /// of an in-place method (PyTorch's trailing `_`, `.data`, NumPy's `copyto`/`put`/`place`/
    /// `putmask`/`fill_diagonal`, `ufunc.at`, an `out=` argument, PyTorch's `inplace=True`), a
    /// call of one of the file's functions whose body may (module level, nested,
    /// `self.method`); where `objects` names
    /// objects the logits are read from (`self` of `self.logits`), any call of a method of
    /// them or that is passed them. A write into an array a name holds (`w`, or an element or
    /// view of it: [`Written`]) does not count where `spared` says so (an array made after
    /// the logits were read).
    pub fn writes_in_place(&self, node: Node<'a>, objects: &[&str], spared: &dyn Fn(Written<'a>) -> bool) -> bool {
        self.writes_in_place_at(node, objects, spared, 0)
    }

    fn writes_in_place_at(
        &self,
        node: Node<'a>,
        objects: &[&str],
        spared: &dyn Fn(Written<'a>) -> bool,
        depth: u32,
    ) -> bool {
        let writes_into = |w: Option<Written<'a>>| w.is_none_or(|w| !spared(w));
        match node.kind_name() {
            "augmented_assignment" => match node.child_by_field_id(FIELD.left) {
                Some(left) if left.kind_name() == "identifier" => {
                    !matches!(self.value(left).kind, Kind::Scalar)
                        && writes_into(Some(Written { name: left, deep: false }))
                }
                // `w[i] += v` adds to the element in place where it is an array.
                Some(left) if left.kind_name() == "subscript" => {
                    writes_into(written_through(left).map(|w| Written { deep: true, ..w }))
                }
                _ => true,
            },
            "assignment" => {
                let Some(left) = node.child_by_field_id(FIELD.left) else { return true };
                let mut stack = vec![left];
                while let Some(t) = stack.pop() {
                    match t.kind_name() {
                        "identifier" => {}
                        "subscript" => {
                            if writes_into(written_through(t)) {
                                return true;
                            }
                        }
                        "attribute" => return true,
                        _ => {
                            let mut cursor = t.walk();
                            stack.extend(t.named_children(&mut cursor));
                        }
                    }
                }
                false
            }
            "call" => {
                let Some(function) = node.child_by_field_id(FIELD.function) else { return true };
                if self.text(function).contains(".data") {
                    return true;
                }
                let args = Args::of(node);
                if let Some(out) = args.keyword(&["out"], self.src)
                    && writes_into((out.kind_name() == "identifier").then_some(Written { name: out, deep: false }))
                {
                    return true;
                }
                // PyTorch's `F.relu(z, inplace=True)`, `nn.functional.dropout(z, p, True, inplace=True)`.
                if let Some(flag) = args.keyword(&["inplace"], self.src)
                    && self.text(flag) != "False"
                    && writes_into(
                        args.positional
                            .first()
                            .copied()
                            .filter(|a| a.kind_name() == "identifier")
                            .map(|name| Written { name, deep: false }),
                    )
                {
                    return true;
                }
                if function.kind_name() == "attribute"
                    && let Some(name) = function.child_by_field_id(FIELD.attribute).map(|a| self.text(a))
                    && ((name.ends_with('_') && !name.starts_with('_')) || WRITING.contains(&name))
                {
                    // `nn.init.zeros_(w)`, `np.copyto(w, v)`: a library function writes into its
                    // first argument; `w.add_(v)`, `w.put(i, v)`: a method into its receiver.
                    let target = if self.api(function).is_some() {
                        args.positional
                            .first()
                            .copied()
                            .filter(|a| a.kind_name() == "identifier")
                            .map(|name| Written { name, deep: false })
                    } else {
                        function.child_by_field_id(FIELD.object).and_then(|receiver| match receiver.kind_name() {
                            "identifier" => Some(Written { name: receiver, deep: false }),
                            "subscript" => written_through(receiver).map(|w| Written { deep: true, ..w }),
                            _ => None,
                        })
                    };
                    if writes_into(target) {
                        return true;
                    }
                }
                // `g()` where `def g(): z[0] = 5.0`, `normalize(z)` where `def normalize(x): x /= 2`.
                if let Some(def) = self.local_callee(node)
                    && self.function_writes_in_place(def, depth)
                {
                    return true;
                }
                // `self.step()`, `update(self)`: the object the logits are read from may change.
                if objects.is_empty() {
                    return false;
                }
                let mut stack = vec![node];
                while let Some(n) = stack.pop() {
                    if n.kind_name() == "identifier" && objects.contains(&self.text(n)) {
                        return true;
                    }
                    let mut cursor = n.walk();
                    stack.extend(n.named_children(&mut cursor));
                }
                false
            }
            _ => false,
        }
    }

    /// The body of the file's function `def` may write into an array that exists when it is
    /// called: its parameters', its closure's, the module's (not arrays it makes itself).
    /// For a module-level function or a method of a module-level class, a fact.
    fn function_writes_in_place(&self, def: Node<'a>, depth: u32) -> bool {
        if let Some(qualified) = self.qualified_name(def) {
            return matches!(
                self.fact(&super::FactKey::InPlaceWrites(qualified.into())),
                super::facts::Fact::Names(n) if !n.is_empty()
            );
        }
        depth >= MAX_CALL_DEPTH || self.body_writes_in_place(def, depth + 1)
    }

    /// [`super::FactKey::InPlaceWrites`] of the function `def`.
    pub(super) fn compute_in_place_writes(&self, def: Node<'a>) -> bool {
        self.body_writes_in_place(def, 0)
    }

    /// A statement of `def`'s body (outside the functions, lambdas and classes nested in it)
    /// may write into an array that exists when `def` is called.
    fn body_writes_in_place(&self, def: Node<'a>, depth: u32) -> bool {
        let Some(body) = def.child_by_field_id(FIELD.body) else { return false };
        // The arrays a name of the function holds when every binding of it that may reach the
        // write is made in the function: made after it was called.
        let made_here = |w: Written<'a>| self.scope_of(w.name) == def && self.made_by(w).is_some_and(|m| !m.is_empty());
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            if crate::syntax::is_scope(n.kind_name()) {
                continue;
            }
            if self.writes_in_place_at(n, &[], &made_here, depth) {
                return true;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        false
    }

    /// The assignments that made the array `written.name` holds at the write: each binding of
    /// it that may reach the write (the bindings in a loop holding it included, which reach it
    /// again on the next pass) is `name = value` with `value` new ([`Model::fresh_value`]; an
    /// array with storage of its own for a `deep` write), or a write into the array it held
    /// (`w += v`, `w[i] = v`, `w.add_(v)`, `out=w`), which keeps the array, followed back the
    /// same way. `None` when another binding may reach it (a parameter, an alias `w = z`, a
    /// view `w = z[0]`, a loop variable, `with ... as w`, a name from outside the function).
    pub fn made_by(&self, written: Written<'a>) -> Option<Vec<Node<'a>>> {
        let name = written.name;
        let scope = self.scope_of(name);
        let index = self.scope_index(scope);
        let text = self.text(name);
        let mut made = Vec::new();
        let mut seen: Vec<usize> = Vec::new();
        let mut work = vec![name];
        let mut budget = 64;
        while let Some(at) = work.pop() {
            let reaching = index.reaching(text, at.start_byte());
            if reaching.outer {
                return None;
            }
            let mut entries = reaching.entries;
            for up in self.ancestry(at).into_iter().rev().skip(1) {
                if up == scope {
                    break;
                }
                if matches!(up.kind_name(), "for_statement" | "while_statement") {
                    let range = up.byte_range();
                    entries.extend(index.entries(text).iter().filter(|e| range.contains(&e.node.start_byte())));
                }
            }
            for e in entries {
                if seen.contains(&e.node.id()) {
                    continue;
                }
                seen.push(e.node.id());
                budget -= 1;
                if budget == 0 {
                    return None;
                }
                match e.binding {
                    Binding::Value(value) => {
                        let simple = e.node.kind_name() == "assignment"
                            && e.node
                                .child_by_field_id(FIELD.left)
                                .is_some_and(|l| l.kind_name() == "identifier" && self.text(l) == text)
                            && e.node.child_by_field_id(FIELD.right) == Some(value);
                        let fresh = self.fresh_value(value).is_some_and(|f| !written.deep || f == Fresh::Array);
                        if !simple || !fresh {
                            return None;
                        }
                        made.push(e.node);
                    }
                    Binding::Augmented { .. } | Binding::Element { .. } | Binding::InPlace(_) => work.push(e.node),
                    // `w[i] += v`, `np.copyto(w, v)`, `f(x, out=w)`: written into, kept.
                    Binding::Opaque if matches!(e.node.kind_name(), "augmented_assignment" | "call") => {
                        work.push(e.node)
                    }
                    _ => return None,
                }
            }
        }
        Some(made)
    }

    /// How new the object `expr` evaluates to is: `None` when it may be (or share storage
    /// with) one that exists already (a name, `z[0]`, `z.T`, `z.detach()`, `np.asarray(z)`,
    /// `torch.as_tensor(z)`, a call of anything else, any call given `out=` or `inplace=`).
    /// New: arithmetic (`a + b`, `-a`, `a > 0`; not `+a`), the libraries' creation functions, copies
    /// and joins (`torch.zeros_like(z)`, `np.array(z)` without `copy=`, `torch.tensor(z)`,
    /// `z.clone()`, `torch.cat(...)`), computations (`prob.pow(2)`, `torch.exp(z)`), and a view
    /// or conversion of something new (`torch.zeros(n).view(2, -1)`, `prob.pow(2).to(dtype)`).
    pub fn fresh_value(&self, expr: Node<'a>) -> Option<Fresh> {
        let expr = unparenthesized(expr);
        match expr.kind_name() {
            "binary_operator" | "comparison_operator" => Some(Fresh::Shallow),
            // `+t` is `torch.positive(t)`, which returns `t` itself.
            "unary_operator" => expr
                .child_by_field_id(FIELD.operator)
                .is_some_and(|op| matches!(self.text(op), "-" | "~"))
                .then_some(Fresh::Shallow),
            // An element of a new list may be an existing array; a view of a new array is new.
            "subscript" => {
                (self.fresh_value(expr.child_by_field_id(FIELD.value)?)? == Fresh::Array).then_some(Fresh::Array)
            }
            "attribute" => {
                let name = self.text(expr.child_by_field_id(FIELD.attribute)?);
                if matches!(name, "T" | "mT" | "H" | "mH") {
                    self.fresh_value(expr.child_by_field_id(FIELD.object)?)
                } else {
                    None
                }
            }
            "call" => {
                let function = expr.child_by_field_id(FIELD.function)?;
                let args = Args::of(expr);
                if args.splat || args.keyword(&["out", "inplace"], self.src).is_some() {
                    return None;
                }
                if let Some(api) = self.api(function) {
                    let leaf = apis::leaf(&api);
                    let module = &api[..api.len() - leaf.len()];
                    let library = matches!(module, "torch." | "numpy." | "jax.numpy." | "numpy.random.");
                    return match leaf {
                        // `np.array(z, copy=False)` may be `z`.
                        "array" if library && args.keyword(&["copy"], self.src).is_some() => None,
                        "tensor" | "clone" if library && module == "torch." => Some(Fresh::Array),
                        "array" | "copy" if library && module == "numpy." => Some(Fresh::Array),
                        "tensor" | "clone" | "array" | "copy" => None,
                        _ if library && ARRAY_MAKERS.contains(&leaf) => Some(Fresh::Array),
                        _ if (library || module == "torch.nn.functional.") && COMPUTING.contains(&leaf) => {
                            Some(Fresh::Shallow)
                        }
                        _ => None,
                    };
                }
                if function.kind_name() != "attribute" {
                    return None;
                }
                let method = self.text(function.child_by_field_id(FIELD.attribute)?);
                match method {
                    "clone" | "new_zeros" | "new_ones" | "new_empty" | "new_full" | "new_tensor" => Some(Fresh::Array),
                    "copy" => Some(Fresh::Shallow),
                    _ if COMPUTING.contains(&method) => Some(Fresh::Shallow),
                    _ if ALIASING_METHODS.contains(&method) => {
                        self.fresh_value(function.child_by_field_id(FIELD.object)?)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Writing into the array `written` names, at a statement that runs after the expression
    /// `read` (the logits an activation read, evaluated by byte `read_end`) and before they
    /// are read again, cannot change what `read` evaluated to: the array is new
    /// ([`Model::made_by`]), no function, lambda, class or generator of the scope reads the name
    /// (a closure reads it when it runs), and each assignment that made it ran after `read`
    /// (it follows `read` and no loop holds both, or it is a statement of a block holding the
    /// write, before the write) or before `read` with nothing reading the name in between (a
    /// statement of a block holding `read`, no loop between them, and no use of the name from
    /// it up to `read_end`).
    pub fn written_apart(&self, written: Written<'a>, read: Node<'a>, read_end: usize) -> bool {
        let name = written.name;
        let scope = self.scope_of(name);
        if self.scope_of(read) != scope {
            return false;
        }
        let Some(made) = self.made_by(written) else { return false };
        if made.is_empty() {
            return false;
        }
        let text = self.text(name);
        // Every use of the name in the scope; none may be in a nested function (a closure).
        let mut uses = Vec::new();
        let mut stack = vec![(scope, false)];
        while let Some((n, nested)) = stack.pop() {
            if n.kind_name() == "identifier" && self.text(n) == text {
                if nested {
                    return false;
                }
                uses.push(n.start_byte());
            }
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                let inner = nested
                    || matches!(
                        child.kind_name(),
                        "function_definition" | "lambda" | "class_definition" | "generator_expression"
                    );
                stack.push((child, inner));
            }
        }
        let loops = |n: Node<'a>| -> Vec<usize> {
            self.ancestry(n)
                .into_iter()
                .filter(|a| matches!(a.kind_name(), "for_statement" | "while_statement"))
                .map(|a| a.id())
                .collect()
        };
        let read_loops = loops(read);
        // The statement of a block the assignment `made` is, and that block.
        let statement_of = |made: Node<'a>| {
            let statement = self.parent(made).filter(|s| s.kind_name() == "expression_statement")?;
            let block = self.parent(statement).filter(|b| matches!(b.kind_name(), "block" | "module"))?;
            Some((statement, block))
        };
        let holds = |outer: Node<'a>, inner: Node<'a>| {
            outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
        };
        made.iter().all(|&m| {
            if m.start_byte() >= read_end {
                let apart = loops(m).iter().all(|l| !read_loops.contains(l));
                let before_the_write = statement_of(m)
                    .is_some_and(|(statement, block)| holds(block, name) && statement.end_byte() <= name.start_byte());
                return apart || before_the_write;
            }
            let Some((statement, block)) = statement_of(m) else { return false };
            if !holds(block, read) || statement.end_byte() > read.start_byte() {
                return false;
            }
            // No loop between the block and `read`: each time `read` runs, the assignment ran
            // before it in the same pass.
            let between = self
                .ancestry(read)
                .into_iter()
                .filter(|a| holds(block, *a) && *a != block)
                .any(|a| matches!(a.kind_name(), "for_statement" | "while_statement"));
            if between {
                return false;
            }
            let target = m.child_by_field_id(FIELD.left).map(|l| l.start_byte());
            !uses.iter().any(|&u| Some(u) != target && u >= statement.start_byte() && u < read_end)
        })
    }
}

/// The name whose array a subscript target writes into: `w` of `w[i]` (not deep) and of
/// `w[i][j]` (deep: `w[i]` may be an array a container holds); `None` through an attribute
/// (`self.buf[i]`, `w.data[i]`) or a call.
fn written_through<'a>(target: Node<'a>) -> Option<Written<'a>> {
    let mut value = target.child_by_field_id(FIELD.value)?;
    let mut deep = false;
    loop {
        match value.kind_name() {
            "identifier" => return Some(Written { name: value, deep }),
            "subscript" => {
                deep = true;
                value = value.child_by_field_id(FIELD.value)?;
            }
            "parenthesized_expression" => value = unparenthesized(value),
            _ => return None,
        }
    }
}

/// An identifier that reads no variable: the target of `name = ...`, a keyword argument's name,
/// an attribute's name.
pub fn names_no_value(id: Node) -> bool {
    let Some(parent) = id.parent() else { return false };
    let field = |f| parent.child_by_field_id(f) == Some(id);
    match parent.kind_name() {
        "assignment" => field(FIELD.left),
        "keyword_argument" => field(FIELD.name),
        "attribute" => field(FIELD.attribute),
        _ => false,
    }
}
