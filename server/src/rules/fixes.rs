//! Helpers every rule's fixes use: spelling a library function with the file's own aliases
//! (adding an import when nothing reaches it), the alias a call used, and each library's name for
//! the functions fixes call.

use tree_sitter::Node;

use crate::semantic::imports::{Imports, compact};
use crate::semantic::value::Library;
use crate::semantic::{Model, apis};
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{FIELD, KindName};

/// Spells the canonical function `target` with this file's own names: `tensorflow.clip_by_value`
/// becomes `tf.clip_by_value` after `import tensorflow.compat.v1 as tf`. `prefer` is the local
/// name the surrounding code used (`th` in `th.log(p)`): when it reaches the target it wins,
/// so one expression never mixes two aliases of a library. When no imported name reaches the
/// target, returns the spelling under a new import and the edit that adds that import: a new
/// line after the leading imports, or `, name` joining a `from` statement of the same module
/// there. The spelling is for code at `site`: an alias is written only where its import is
/// what the name holds there, a `name = None` fallback for a missing library aside
/// ([`Model::import_holds`]): not where a local binding shadows it
/// (`F = x.shape[-1]` or `(F := ...)` in the function, a parameter `F`, `except E as F`), nor
/// where only another function imports it; another alias that reaches the target is written
/// instead (`torch.nn.functional.logsigmoid` through `torch`), and a new import takes no name
/// shadowed there.
///
/// Where the module imports the package only conditionally (in a `try`, under an `if`, in a
/// function: [`Imports::imports_only_conditionally`]), an import at the top would run where
/// the module's own did not (a `try` whose handler covers a missing library), so the new import
/// goes beside the file's own import of the package that holds at `site` ([`beside`]): in the
/// same block, with its indentation, or joining it. Where none holds there, it goes at the
/// top and the engine makes every fix holding it unsafe, its title saying why
/// ([`Model::take_import_caveats`]).
///
/// `None` when no spelling holds at `site`: no alias reaches it, and the name a new import would
/// bind and the spelling start from is shadowed there (`def loss(x, torch):` for
/// `torch.nn.functional.log_softmax`, a local, a comprehension's variable, a class attribute
/// read in the class body): the fix would call an attribute of another object.
pub fn spell<'a>(
    model: &Model<'a>,
    site: Node<'a>,
    target: &str,
    prefer: Option<&str>,
) -> Option<(String, Option<Edit>)> {
    let (spelled, import, caveat) = spell_with(
        &model.imports,
        target,
        prefer,
        // `try: import torch` / `except ImportError: torch = None`: the code at the site is
        // written for the module where the import ran (where the fallback ran, it fails on
        // `torch.softmax` as the fix would on `torch.log_softmax`).
        &|name, path| model.import_holds(name, path, site),
        &|name| model.shadows(name, site),
        &|package, statement| beside(model, site, package, statement),
    )?;
    if let (Some(edit), Some(caveat)) = (&import, caveat) {
        model.add_import_caveat(edit.clone(), caveat);
    }
    Some((spelled, import))
}

/// [`spell`] with `reaches` saying whether an alias (a name, and the module the import table
/// binds it to) holds that import at the fix's site, a `name = None` fallback counting as no
/// binding ([`Model::import_holds`]), `shadowed` which names a local binding shadows there (a
/// new import takes none of them), and `beside` where a new import of a package the module
/// imports only conditionally goes (a package, the statement). Returns the spelling, the edit adding the import it needs, and why
/// that edit is not sound (an import at the top of a package the module imports only
/// conditionally); `None` when the name a new import would bind is shadowed at the site.
pub fn spell_with(
    imports: &Imports,
    target: &str,
    prefer: Option<&str>,
    reaches: &dyn Fn(&str, &str) -> bool,
    shadowed: &dyn Fn(&str) -> bool,
    beside: &dyn Fn(&str, &str) -> Option<Edit>,
) -> Option<(String, Option<Edit>, Option<String>)> {
    if let Some(spelled) = spell_alias(imports, target, prefer, reaches) {
        return Some((spelled, None, None));
    }
    // The package itself (`import torch.nn.functional`, spelled `torch.nn.functional.f`) is
    // bound anew where nothing else binds its name, or where the name holds an import of the
    // package at the site already (`try: import torch` / `except ImportError: torch = None`: the
    // new import goes beside it); not where a parameter, a local, a class or another module
    // holds it.
    let package_free = |root: &str| match imports.binding(root) {
        Some(path) if path.split('.').next() != Some(root) => false,
        Some(path) => !shadowed(root) || reaches(root, path),
        None => !shadowed(root) && !imports.defined().iter().any(|d| d == root),
    };
    let (statement, spelled) = new_import(target, |name| imports.is_taken(name) || shadowed(name), package_free)?;
    let module = imported_module(&statement);
    let package = module.split('.').next().unwrap_or(module);
    let mut caveat = None;
    if imports.imports_only_conditionally(package) {
        if let Some(edit) = beside(package, &statement) {
            return Some((spelled, Some(edit), None));
        }
        caveat = Some(format!("adds `{statement}` at the top, where the module imports {package} only conditionally"));
    }
    // `from M import f` joins a `from M import ...` the file already has.
    let extended = statement
        .strip_prefix("from ")
        .and_then(|s| s.split_once(" import "))
        .and_then(|(module, name)| Some((imports.from_import_end(module)?, name)));
    let edit = match extended {
        Some((at, name)) => Edit { start: at, end: at, content: format!(", {name}") },
        None => {
            let newline = imports.newline();
            // PEP 8: two blank lines before a top-level `def` or `class`.
            let blank = if imports.before_definition() { newline.repeat(2) } else { String::new() };
            Edit {
                start: imports.insert_at(),
                end: imports.insert_at(),
                content: format!("{statement}{newline}{blank}"),
            }
        }
    };
    Some((spelled, Some(edit), caveat))
}

/// The best spelling of `target` through a name the file imports that `reaches` says holds its
/// import at the fix's site, if any. Ranking: the preferred name, then the longest module
/// (`F.softmax` over `torch.nn.functional.softmax`), then the library's conventional name
/// (`torch` over `T` when a file has both), then the shorter spelling, then alphabetical. The
/// ranking does not depend on the site: the names are asked in its order, and the first that
/// reaches wins, so a fix asks about one name, not every alias of the module
/// ([`Imports::names_of_module`] holds them in order). Asked only of the names that reach the
/// target: each answer is a fact a cached function depends on.
fn spell_alias(
    imports: &Imports,
    target: &str,
    prefer: Option<&str>,
    reaches: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    // The modules `target` is in (or is), longest first: what follows one is the spelling's rest.
    let modules = std::iter::once(target)
        .chain(target.char_indices().rev().filter(|&(_, c)| c == '.').map(|(i, _)| &target[..i]));
    // Whether the name `local`, bound to `path`, stands for `module`, as written or canonically.
    let stands_for = |path: &str, module: &str| {
        path == module || apis::canonical(&format!("{path}.")).trim_end_matches('.') == module
    };
    let prefer = prefer.and_then(|local| Some((local, imports.binding(local)?)));
    if let Some((local, path)) = prefer
        && let Some(module) = modules.clone().find(|m| stands_for(path, m))
        && reaches(local, path)
    {
        return Some(format!("{local}{}", &target[module.len()..]));
    }
    let skip = prefer.map(|(local, _)| local);
    for module in modules {
        let rest = &target[module.len()..];
        let conventional = CONVENTIONS
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, alias)| *alias)
            .filter(|alias| imports.binding(alias).is_some_and(|path| stands_for(path, module)));
        let names = imports.names_of_module(module).iter().map(String::as_str).filter(|n| Some(*n) != conventional);
        for local in conventional.into_iter().chain(names) {
            if Some(local) == skip {
                continue;
            }
            if let Some(path) = imports.binding(local)
                && reaches(local, path)
            {
                return Some(format!("{local}{rest}"));
            }
        }
    }
    // The preferred module re-exports the function under its own name (`nnx.log_sigmoid` is
    // jax.nn's): spelled there rather than imported from the module that defines it.
    let leaf = apis::leaf(target);
    if let Some((local, path)) = prefer
        && apis::canonical(&format!("{path}.{leaf}")) == target
        && reaches(local, path)
    {
        return Some(format!("{local}.{leaf}"));
    }
    None
}

/// The module a statement [`new_import`] made imports: `a.b` for `import a.b`, `import a.b as
/// c` and `from a.b import f`.
fn imported_module(statement: &str) -> &str {
    if let Some(rest) = statement.strip_prefix("from ") {
        return rest.split_once(" import ").map_or(rest, |(module, _)| module);
    }
    let rest = statement.strip_prefix("import ").unwrap_or(statement);
    rest.split_once(" as ").map_or(rest, |(module, _)| module)
}

/// Where the new import `statement` of `package` goes, for a fix at `site`, in a module that
/// imports the package only conditionally: beside an import of the package that holds at
/// `site` (so the new one runs wherever the code at `site` could read that one's names), the
/// innermost first (the functions holding `site`, then the module's blocks). That import
/// qualifies when a name it binds is what that name holds at `site` ([`Model::import_holds`],
/// which asks that the name be imported on every path to `site`, or that the code at `site`
/// read it already, a `name = None` fallback counting as no binding) and no other import binds
/// the name there; where each import binding it ends a branch of one `if` ([`branching_if`]),
/// the new one goes after that `if`. `from M import f` joins a `from M import ...` so chosen;
/// any other statement takes the line after it, with its indentation (`; statement` after it
/// where it shares its line). `None` when no import qualifies.
fn beside<'a>(model: &Model<'a>, site: Node<'a>, package: &str, statement: &str) -> Option<Edit> {
    let mut candidates: Vec<Node<'a>> = Vec::new();
    // Names the functions holding `site` bind by an import of the package: the module's imports
    // of them are not what the names hold at `site`.
    let mut local_names: Vec<String> = Vec::new();
    for function in model.ancestry(site).into_iter().rev().filter(|n| n.kind_name() == "function_definition") {
        // A default value, a decorator or an annotation runs outside the function.
        let Some(body) = function.child_by_field_id(FIELD.body) else { continue };
        if !(body.start_byte() <= site.start_byte() && site.end_byte() <= body.end_byte()) {
            continue;
        }
        let found = Imports::of_package_in(body, model.src, package);
        // A name two imports of the function bind is not the first's alone.
        let mut names: Vec<String> = found.iter().flat_map(|a| names_of(model, *a, package)).map(|(n, _)| n).collect();
        names.sort();
        let repeated: Vec<String> = names.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0].clone()).collect();
        for a in found {
            for (n, p) in names_of(model, a, package) {
                if local_names.contains(&n) || !model.import_holds(&n, &p, site) {
                    continue;
                }
                if !repeated.contains(&n) {
                    return Some(edit_beside(model, a, statement));
                }
                if let Some(branches) = branching_if(model, function, a, &n, &p) {
                    return Some(edit_beside(model, branches, statement));
                }
            }
        }
        local_names.extend(names);
    }
    let root = model.tree.root_node();
    for range in model.imports.nested_imports(package) {
        let Some(a) = statement_at(root, range) else { continue };
        for (n, p) in names_of(model, a, package) {
            if local_names.contains(&n) || !model.import_holds(&n, &p, site) {
                continue;
            }
            if !model.imports.is_repeated(&n) {
                candidates.push(a);
                break;
            }
            if let Some(branches) = branching_if(model, root, a, &n, &p) {
                candidates.push(branches);
                break;
            }
        }
    }
    // The last one before `site`, or else the first.
    let chosen = candidates.iter().rev().find(|a| a.end_byte() <= site.start_byte()).or(candidates.first())?;
    Some(edit_beside(model, *chosen, statement))
}

/// For a name `n` several imports of `scope` (a function, or the module) bind, the import
/// `a` among them: the innermost `if` statement holding `a` each of whose branches (`else`
/// included) ends with an import binding `n` to `path` (or with such an `if`), where those
/// imports are every import binding `n` in `scope` (`if A: from torch import log / else: from
/// torch import log`; what else binds it the caller asked of [`Model::import_holds`]). A new
/// import on the line after that `if`, with its indentation, runs right after whichever of
/// them ran, and only then; `None` when there is no such `if`, or when it does not end its
/// line.
fn branching_if<'a>(model: &Model<'a>, scope: Node<'a>, a: Node<'a>, n: &str, path: &str) -> Option<Node<'a>> {
    let index = model.scope_index(scope);
    let entries = index.entries(n);
    let mut up = model.parent(a);
    while let Some(node) = up.filter(|u| *u != scope) {
        if node.kind_name() == "if_statement"
            && let Some(tails) = tail_imports(model, node, n, path)
        {
            let import = |e: &&crate::semantic::scope::Entry| {
                matches!(e.node.kind_name(), "import_statement" | "import_from_statement")
            };
            if entries.iter().filter(import).all(|e| tails.contains(&e.node)) {
                return Imports::beside(node, model.src).1.then_some(node);
            }
            // An outer `if` covering more branches holds this one in one of its tails.
        }
        if matches!(node.kind_name(), "function_definition" | "class_definition") {
            return None;
        }
        up = model.parent(node);
    }
    None
}

/// The imports binding `n` to `path` that end `statement` on every path through it: itself
/// when it is one, or those ending each branch of an `if` with an `else`. `None` when some
/// path through it ends otherwise.
fn tail_imports<'a>(model: &Model<'a>, statement: Node<'a>, n: &str, path: &str) -> Option<Vec<Node<'a>>> {
    match statement.kind_name() {
        "import_statement" | "import_from_statement" => Imports::bound_names(statement, model.src)
            .iter()
            .any(|(name, p)| name == n && p == path)
            .then(|| vec![statement]),
        "if_statement" => {
            let mut blocks = vec![statement.child_by_field_id(FIELD.consequence)?];
            let mut cursor = statement.walk();
            let mut has_else = false;
            for clause in statement.children_by_field_name("alternative", &mut cursor) {
                has_else |= clause.kind_name() == "else_clause";
                let field = if clause.kind_name() == "else_clause" { FIELD.body } else { FIELD.consequence };
                blocks.push(clause.child_by_field_id(field)?);
            }
            if !has_else {
                return None;
            }
            let mut tails = Vec::new();
            for block in blocks {
                let mut cursor = block.walk();
                let last = block.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").last()?;
                tails.extend(tail_imports(model, last, n, path)?);
            }
            Some(tails)
        }
        _ => None,
    }
}

/// The names an import statement binds to a path in `package`, with those paths.
fn names_of(model: &Model, statement: Node, package: &str) -> Vec<(String, String)> {
    let mut names = Imports::bound_names(statement, model.src);
    names.retain(|(_, path)| path.split('.').next() == Some(package));
    names
}

/// The import statement spanning exactly `range`.
fn statement_at(root: Node, range: std::ops::Range<usize>) -> Option<Node> {
    let mut node = root.descendant_for_byte_range(range.start, range.end)?;
    loop {
        if node.byte_range() == range && matches!(node.kind_name(), "import_statement" | "import_from_statement") {
            return Some(node);
        }
        if node.start_byte() < range.start || node.end_byte() > range.end {
            return None;
        }
        node = node.parent()?;
    }
}

/// The edit adding `statement` beside the import statement `anchor` ([`beside`]).
fn edit_beside(model: &Model, anchor: Node, statement: &str) -> Edit {
    let src = model.src;
    // `from M import f` joins `from M import a, b` (after its last name).
    if let Some((module, name)) = statement.strip_prefix("from ").and_then(|s| s.split_once(" import "))
        && anchor.kind_name() == "import_from_statement"
        && !anchor.has_error()
        && anchor
            .child_by_field_id(FIELD.module_name)
            .is_some_and(|m| m.kind_name() == "dotted_name" && compact(model.text(m)) == module)
    {
        let mut cursor = anchor.walk();
        if let Some(last) = anchor.children_by_field_name("name", &mut cursor).last() {
            return Edit { start: last.end_byte(), end: last.end_byte(), content: format!(", {name}") };
        }
    }
    match Imports::beside(anchor, src) {
        (at, true) => {
            let indent = &src[crate::text::line_start(src, anchor.start_byte())..anchor.start_byte()];
            let newline = crate::text::line_ending(src, anchor.end_byte());
            Edit { start: at, end: at, content: format!("{indent}{statement}{newline}") }
        }
        // On a line with other code (`try: from torch import log`, `from torch import log; x = 1`),
        // or the file's last line without a terminator: the same logical line.
        (at, false) => Edit { start: at, end: at, content: format!("; {statement}") },
    }
}

/// The libraries a new import brings in under their conventional alias.
const CONVENTIONS: &[(&str, &str)] =
    &[("jax.numpy", "jnp"), ("tensorflow", "tf"), ("numpy", "np"), ("torch", "torch"), ("keras", "keras")];

/// The aliases a new import takes when they are free ([`CONVENTIONS`]).
pub const CONVENTIONAL_ALIASES: &[&str] = &["jnp", "tf", "np", "torch", "keras"];

/// The conventional import for a function's library, and the function's spelling under it:
/// under a name `taken` says is free, or else under the package's own name (`import
/// tensorflow.math`, `tensorflow.math.f`) where `package_free` says that name may hold the
/// package at the fix's site. `None` when neither may.
fn new_import(
    target: &str,
    taken: impl Fn(&str) -> bool,
    package_free: impl Fn(&str) -> bool,
) -> Option<(String, String)> {
    // Functions from a `special` module read best imported by name: `xlogy(a, b)`.
    if let Some((module, func)) = target.rsplit_once('.')
        && module.ends_with(".special")
        && !taken(func)
    {
        return Some((format!("from {module} import {func}"), func.to_string()));
    }
    for (module, alias) in CONVENTIONS {
        if let Some(rest) = target.strip_prefix(&format!("{module}.")) {
            if taken(alias) {
                break;
            }
            let statement =
                if module == alias { format!("import {module}") } else { format!("import {module} as {alias}") };
            return Some((statement, format!("{alias}.{rest}")));
        }
    }
    let root = target.split('.').next().unwrap_or(target);
    let module = target.rsplit_once('.').map_or(root, |(m, _)| m);
    package_free(root).then(|| (format!("import {module}"), target.to_string()))
}

/// The local name a callee starts from (`th` in `th.log`), so fixes reuse the same alias.
pub fn root_name<'s>(model: &Model<'s>, callee: Node) -> Option<&'s str> {
    let mut node = callee;
    while node.kind_name() == "attribute" {
        node = node.child_by_field_id(FIELD.object)?;
    }
    (node.kind_name() == "identifier").then(|| model.text(node))
}

/// Functions fixes call, by what they do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// Clip into [lo, hi].
    Clip,
    /// Element-wise maximum with a floor.
    Maximum,
    /// `x * log(y)`, 0 where x is 0.
    Xlogy,
    /// `a / b`, 0 where `b` is 0.
    DivideNoNan,
    /// `x / max(norm(x), eps)` along one axis.
    Normalize,
    Softmax,
    LogSumExp,
    Sigmoid,
    IsNan,
    Where,
    OnesLike,
}

/// The canonical name of `function` in `library`, if it has one.
pub fn function(library: Library, function: Function) -> Option<&'static str> {
    use Function::*;
    use Library::*;
    Some(match (library, function) {
        (TensorFlow, Clip) => "tensorflow.clip_by_value",
        (TensorFlow, Maximum) => "tensorflow.math.maximum",
        (TensorFlow, Xlogy) => "tensorflow.math.xlogy",
        (KerasOps, Clip) => "keras.ops.clip",
        (KerasOps, Maximum) => "keras.ops.maximum",
        (KerasOps, Xlogy) => return None,
        (KerasBackend, Clip) => "keras.backend.clip",
        (KerasBackend, Maximum) => "keras.backend.maximum",
        (KerasBackend, Xlogy) => return None,
        (Torch, Clip | Maximum) => "torch.clamp",
        (Torch, Xlogy) => "torch.xlogy",
        (NumPy, Clip) => "numpy.clip",
        (NumPy, Maximum) => "numpy.maximum",
        (NumPy, Xlogy) => "scipy.special.xlogy",
        (Jax, Clip) => "jax.numpy.clip",
        (Jax, Maximum) => "jax.numpy.maximum",
        (Jax, Xlogy) => "jax.scipy.special.xlogy",
        // Range family (issue 9). Keras 3's `keras.backend` has none of these.
        (KerasBackend, DivideNoNan | Normalize | Softmax | LogSumExp | Sigmoid | IsNan | Where | OnesLike) => {
            return None;
        }
        (TensorFlow, DivideNoNan) => "tensorflow.math.divide_no_nan",
        (KerasOps, DivideNoNan) => "keras.ops.divide_no_nan",
        (Torch | NumPy | Jax, DivideNoNan) => return None,
        (Torch, Normalize) => "torch.nn.functional.normalize",
        (TensorFlow, Normalize) => "tensorflow.math.l2_normalize",
        (KerasOps, Normalize) => "keras.ops.normalize",
        (NumPy | Jax, Normalize) => return None,
        (Torch, Softmax) => "torch.softmax",
        (TensorFlow, Softmax) => "tensorflow.nn.softmax",
        (KerasOps, Softmax) => "keras.ops.softmax",
        (NumPy, Softmax) => "scipy.special.softmax",
        (Jax, Softmax) => "jax.nn.softmax",
        (Torch, LogSumExp) => "torch.logsumexp",
        (TensorFlow, LogSumExp) => "tensorflow.math.reduce_logsumexp",
        (KerasOps, LogSumExp) => "keras.ops.logsumexp",
        (NumPy, LogSumExp) => "scipy.special.logsumexp",
        (Jax, LogSumExp) => "jax.nn.logsumexp",
        (Torch, Sigmoid) => "torch.sigmoid",
        (TensorFlow, Sigmoid) => "tensorflow.math.sigmoid",
        (KerasOps, Sigmoid) => "keras.ops.sigmoid",
        (NumPy, Sigmoid) => "scipy.special.expit",
        (Jax, Sigmoid) => "jax.nn.sigmoid",
        (Torch, IsNan) => "torch.isnan",
        (TensorFlow, IsNan) => "tensorflow.math.is_nan",
        (KerasOps, IsNan) => "keras.ops.isnan",
        (NumPy, IsNan) => "numpy.isnan",
        (Jax, IsNan) => "jax.numpy.isnan",
        (Torch, Where) => "torch.where",
        (TensorFlow, Where) => "tensorflow.where",
        (KerasOps, Where) => "keras.ops.where",
        (NumPy, Where) => "numpy.where",
        (Jax, Where) => "jax.numpy.where",
        (Torch, OnesLike) => "torch.ones_like",
        (TensorFlow, OnesLike) => "tensorflow.ones_like",
        (KerasOps, OnesLike) => "keras.ops.ones_like",
        (NumPy, OnesLike) => "numpy.ones_like",
        (Jax, OnesLike) => "jax.numpy.ones_like",
    })
}

/// A fix that replaces `node` with `content` (calling `target`, spelled with the file's aliases
/// and preferring `prefer`), adding the import the spelling needs; `None` where no spelling
/// holds at `node` ([`spell`]).
pub fn replace_with_call<'a>(
    model: &Model<'a>,
    node: Node<'a>,
    target: &str,
    prefer: Option<&str>,
    args: &str,
    title: String,
    applicability: Applicability,
) -> Option<Fix> {
    let (spelled, import) = spell(model, node, target, prefer)?;
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: node.start_byte(), end: node.end_byte(), content: format!("{spelled}({args})") });
    Some(Fix { title, applicability, edits, whole: false })
}

/// `content`, the text a fix writes in place of `node`, with the comments inside `node` that
/// it does not hold moved into its first parentheses, so a fix that rewrites a call split over
/// lines keeps them: `log(softmax(\n z,  # logits\n))` becomes `log_softmax(  # logits\n
/// z)`, each comment on its own line and the rest on a line below, indented one level more
/// than `node`'s first line. `None` when comments would be lost and `content` opens no call to
/// hold them (its text up to the first `(` is not a dotted name).
pub fn keeping_comments(model: &Model, node: Node, content: String) -> Option<String> {
    let mut lost: Vec<Node> = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "comment" {
            if !content.contains(model.text(n)) {
                lost.push(n);
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor));
    }
    if lost.is_empty() {
        return Some(content);
    }
    lost.sort_by_key(|c| c.start_byte());
    let lost: Vec<&str> = lost.iter().map(|c| model.text(*c)).collect();
    let open = content.find('(')?;
    let callee = &content[..open];
    if callee.is_empty() || !callee.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return None;
    }
    let line_start = crate::text::line_start(model.src, node.start_byte());
    let indent: String = model.src[line_start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
    let newline = crate::text::line_ending(model.src, node.start_byte());
    let inner = format!("{newline}{indent}    ");
    Some(format!("{}  {}{inner}{}", &content[..=open], lost.join(&inner), content[open + 1..].trim_start()))
}

/// A fix that adds the keyword argument `keyword` (`"eps=1e-4"`) at the end of a call's
/// arguments; none when the arguments hold a comment.
pub fn add_keyword(src: &str, call: Node, keyword: &str, title: String) -> Option<Fix> {
    let list = call.child_by_field_id(FIELD.arguments).filter(|a| a.kind_name() == "argument_list")?;
    if crate::syntax::has_comment(list) {
        return None;
    }
    let close = list.end_byte().checked_sub(1)?;
    let before = src.get(list.start_byte()..close)?.trim_end();
    let at = list.start_byte() + before.len();
    let content = if before == "(" {
        keyword.to_string()
    } else if before.ends_with(',') {
        format!(" {keyword}")
    } else {
        format!(", {keyword}")
    };
    Some(Fix {
        title,
        applicability: Applicability::Unsafe,
        edits: vec![Edit { start: at, end: at, content }],
        whole: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    #[test]
    fn the_conventional_aliases_are_those_of_the_conventions() {
        let aliases: Vec<&str> = CONVENTIONS.iter().map(|(_, alias)| *alias).collect();
        assert_eq!(aliases, CONVENTIONAL_ALIASES);
    }

    fn spell_in(src: &str, target: &str) -> (String, Option<String>) {
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        let (spelled, edit, _) = spell_with(&imports, target, None, &|_, _| true, &|_| false, &|_, _| None).unwrap();
        (spelled, edit.map(|e| crate::smell::apply_edits(src, &[e])))
    }

    #[test]
    fn of_two_names_for_one_library_the_conventional_one_spells_the_fix() {
        // Regression: `import torch as T` beside `import torch` gave `T.nn.functional.logsigmoid`
        // in a file that writes `torch.` everywhere.
        for src in ["import torch as T\nimport torch\n", "import torch\nimport torch as T\n"] {
            assert_eq!(spell_in(src, "torch.nn.functional.logsigmoid").0, "torch.nn.functional.logsigmoid", "{src}");
        }
        assert_eq!(spell_in("import numpy\nimport numpy as np\n", "numpy.clip").0, "np.clip");
        // The longest module still wins over the conventional name.
        let src = "import torch\nimport torch.nn.functional as F\n";
        assert_eq!(spell_in(src, "torch.nn.functional.logsigmoid").0, "F.logsigmoid");
    }

    /// [`spell_alias`] as it was: every binding ranked, each that reaches the target asked.
    fn spell_alias_by_ranking_all(
        imports: &Imports,
        target: &str,
        prefer: Option<&str>,
        reaches: &dyn Fn(&str, &str) -> bool,
    ) -> Option<String> {
        type Rank = (bool, usize, bool, std::cmp::Reverse<usize>);
        let mut best: Option<(Rank, String)> = None;
        for (local, path) in imports.bindings() {
            for module in [path.to_string(), apis::canonical(&format!("{path}.")).trim_end_matches('.').to_string()] {
                let rest = if target == module {
                    Some(String::new())
                } else {
                    target.strip_prefix(&format!("{module}.")).map(|r| format!(".{r}"))
                };
                if let Some(rest) = rest
                    && reaches(local, path)
                {
                    let spelled = format!("{local}{rest}");
                    let conventional = CONVENTIONS.iter().any(|(m, alias)| *m == module && *alias == local);
                    let rank = (prefer == Some(local), module.len(), conventional, std::cmp::Reverse(spelled.len()));
                    let better = match &best {
                        None => true,
                        Some((r, s)) => rank > *r || (rank == *r && spelled < *s),
                    };
                    if better {
                        best = Some((rank, spelled));
                    }
                }
            }
        }
        best.map(|(_, spelled)| spelled)
    }

    /// Asking the names in ranked order and stopping at the first that reaches (issue 14: a
    /// fix asked every alias of the module) chooses what ranking every name that reaches chose,
    /// whatever the imports, the preferred name and the names that reach.
    #[test]
    fn the_first_name_in_ranked_order_is_the_best_that_reaches() {
        const IMPORTS: &[&str] = &[
            "import torch",
            "import torch as T",
            "import torch as th",
            "import torch as t",
            "import torch as np",
            "import torch.nn.functional as F",
            "from torch.nn import functional as G",
            "from torch import nn",
            "import tensorflow as tf",
            "import tensorflow.compat.v1 as tf",
            "import tensorflow.compat.v1 as v1",
            "from tensorflow import math as tfm",
            "from tensorflow import keras",
            "import keras",
            "import keras.backend as K",
            "import numpy",
            "import numpy as np",
            "import numpy as n",
            "import numpy as torch",
            "import jax.numpy as jnp",
            "import jax",
            "from jax import numpy as jn",
            "import scipy",
            "from scipy import special",
            "from scipy.special import xlogy",
            "import scipy.special as sp",
            "from . import torch as rel",
        ];
        const TARGETS: &[&str] = &[
            "torch",
            "torch.clamp",
            "torch.nn.functional.logsigmoid",
            "torch.nn.functional.normalize",
            "tensorflow.clip_by_value",
            "tensorflow.math.xlogy",
            "keras.backend.clip",
            "keras.ops.clip",
            "numpy.clip",
            "scipy.special.xlogy",
            "jax.numpy.clip",
            "jax.nn.softmax",
        ];
        const PREFER: &[Option<&str>] =
            &[None, Some("torch"), Some("T"), Some("t"), Some("F"), Some("np"), Some("tf"), Some("jn"), Some("x")];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3_000 {
            let src: String = IMPORTS.iter().filter(|_| next() % 3 == 0).map(|line| format!("{line}\n")).collect();
            let tree = parse(&src);
            let imports = Imports::collect(tree.root_node(), &src);
            let seed = next();
            // Which names hold their import at the site: all, none, or some.
            let reaches = |local: &str, path: &str| match seed % 4 {
                0 => true,
                1 => false,
                _ => {
                    let h = local
                        .bytes()
                        .chain(path.bytes())
                        .fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
                    h % 3 != 0
                }
            };
            for target in TARGETS {
                for prefer in PREFER {
                    assert_eq!(
                        spell_alias(&imports, target, *prefer, &reaches),
                        spell_alias_by_ranking_all(&imports, target, *prefer, &reaches),
                        "{target} preferring {prefer:?} (seed {seed}) in\n{src}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_module_re_exporting_the_function_spells_it_where_the_call_used_it() {
        // flax.nnx exports jax.nn's log_sigmoid: no `import jax.nn` for a file that has none.
        let src = "from flax import nnx\n";
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        let spell = |prefer| spell_with(&imports, "jax.nn.log_sigmoid", prefer, &|_, _| true, &|_| false, &|_, _| None);
        let (spelled, import, _) = spell(Some("nnx")).unwrap();
        assert_eq!((spelled.as_str(), import), ("nnx.log_sigmoid", None));
        // Without the call's own name to go by, the function's own module is imported.
        let (spelled, import, _) = spell(None).unwrap();
        assert_eq!(spelled, "jax.nn.log_sigmoid");
        assert!(import.is_some());
        // A file that imports jax keeps jax's spelling.
        assert_eq!(
            spell_in("import jax\nfrom flax import nnx\n", "jax.nn.log_sigmoid"),
            ("jax.nn.log_sigmoid".into(), None)
        );
    }

    #[test]
    fn spells_with_the_files_own_aliases() {
        assert_eq!(spell_in("import torch as th\n", "torch.clamp").0, "th.clamp");
        // The alias the call itself used wins over the conventional one.
        let src = "import torch\nimport torch as th\n";
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        assert_eq!(
            spell_with(&imports, "torch.clamp", None, &|_, _| true, &|_| false, &|_, _| None).unwrap().0,
            "torch.clamp"
        );
        assert_eq!(
            spell_with(&imports, "torch.clamp", Some("th"), &|_, _| true, &|_| false, &|_, _| None).unwrap().0,
            "th.clamp"
        );
        assert_eq!(
            spell_with(&imports, "torch.clamp", Some("F"), &|_, _| true, &|_| false, &|_, _| None).unwrap().0,
            "torch.clamp"
        );
        assert_eq!(spell_in("import tensorflow.compat.v1 as tf\n", "tensorflow.clip_by_value").0, "tf.clip_by_value");
        assert_eq!(
            spell_in("from tensorflow import math as tfm\nimport tensorflow as tf\n", "tensorflow.math.xlogy").0,
            "tfm.xlogy"
        );
        assert_eq!(spell_in("import keras.backend as K\n", "keras.backend.clip").0, "K.clip");
        assert_eq!(
            spell_in("import jax.numpy as jnp\nimport jax\n", "jax.scipy.special.xlogy").0,
            "jax.scipy.special.xlogy"
        );
    }

    #[test]
    fn adds_an_import_when_nothing_reaches_the_function() {
        let (spelled, fixed) = spell_in("\"\"\"Doc.\"\"\"\nimport numpy as np\n\nx = 1\n", "scipy.special.xlogy");
        assert_eq!(spelled, "xlogy");
        assert_eq!(fixed.unwrap(), "\"\"\"Doc.\"\"\"\nimport numpy as np\nfrom scipy.special import xlogy\n\nx = 1\n");
        let (spelled, fixed) =
            spell_in("from tensorflow.math import log as tf_log\ny = tf_log(x)\n", "tensorflow.clip_by_value");
        assert_eq!(spelled, "tf.clip_by_value");
        assert_eq!(
            fixed.unwrap(),
            "from tensorflow.math import log as tf_log\nimport tensorflow as tf\ny = tf_log(x)\n"
        );
        // `tf` is taken by something else: spell it in full.
        let (spelled, fixed) =
            spell_in("from foo import tf\nfrom tensorflow.math import log\n", "tensorflow.clip_by_value");
        assert_eq!(spelled, "tensorflow.clip_by_value");
        assert!(fixed.unwrap().contains("\nimport tensorflow\n"));
    }

    /// A name from a module the leading imports already take names from joins that statement
    /// (the last one, after its last name) instead of a second `from` line.
    #[test]
    fn a_new_name_joins_the_files_from_import_of_its_module() {
        let joined = |src: &str| spell_in(src, "scipy.special.xlogy").1.unwrap();
        assert_eq!(
            joined("import numpy as np\nfrom scipy.special import softmax\n\nx = 1\n"),
            "import numpy as np\nfrom scipy.special import softmax, xlogy\n\nx = 1\n"
        );
        assert_eq!(
            joined(
                "from scipy.special import expit\nfrom scipy.special import (\n    softmax as sm,\n    logit,\n)\nx = 1\n"
            ),
            "from scipy.special import expit\nfrom scipy.special import (\n    softmax as sm,\n    logit, xlogy,\n)\nx = 1\n"
        );
        assert_eq!(
            joined("from scipy.special import softmax  # probabilities\nx = 1\n"),
            "from scipy.special import softmax, xlogy  # probabilities\nx = 1\n"
        );
        // Another module, a wildcard, or an import after the code: a line of its own.
        for src in [
            "from scipy.stats import entropy\nx = 1\n",
            "from scipy.special import *\nx = 1\n",
            "import numpy as np\nx = 1\nfrom scipy.special import softmax\n",
        ] {
            assert!(joined(src).contains("from scipy.special import xlogy\n"), "{src:?}: {}", joined(src));
        }
    }

    /// Regression (a newcomer's run): in a file that defines `logsumexp` (or `softmax`), the
    /// safe fix imported SciPy's function under that name, so the fixed function called itself.
    #[test]
    fn a_new_import_takes_no_name_the_file_defines() {
        let src = "import numpy as np\n\n\ndef logsumexp(x):\n    return np.log(np.sum(np.exp(x)))\n";
        let (spelled, fixed) = spell_in(src, "scipy.special.logsumexp");
        assert_eq!(spelled, "scipy.special.logsumexp");
        assert!(fixed.unwrap().contains("import numpy as np\nimport scipy.special\n"));
        let (spelled, _) = spell_in("import numpy as np\n\ndef np_softmax(x):\n    pass\n", "scipy.special.softmax");
        assert_eq!(spelled, "softmax");
    }

    /// The spelling for code at the identifier `SITE` of `src` (and the file with its import).
    fn spell_at_site(src: &str, target: &str, prefer: Option<&str>) -> (String, Option<String>) {
        let (spelled, fixed, _) = spell_at_site_with_caveats(src, target, prefer);
        (spelled, fixed)
    }

    /// [`spell_at_site`], with why the import edit is not sound ([`Model::take_import_caveats`]).
    fn spell_at_site_with_caveats(
        src: &str,
        target: &str,
        prefer: Option<&str>,
    ) -> (String, Option<String>, Vec<String>) {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.find("SITE").expect("a SITE");
        let site = tree.root_node().descendant_for_byte_range(at, at + 4).unwrap();
        let (spelled, edit) = spell(&model, site, target, prefer).expect("a spelling");
        let caveats = model.take_import_caveats();
        assert!(caveats.iter().all(|(e, _)| Some(e) == edit.as_ref()), "{caveats:?}");
        (spelled, edit.map(|e| crate::smell::apply_edits(src, &[e])), caveats.into_iter().map(|(_, why)| why).collect())
    }

    /// Regression (a newcomer's trial): with `F = x.shape[-1]` in the function, a fix wrote
    /// `F.logsigmoid(x) * F`, an AttributeError at run time. An alias a local binding shadows
    /// at the fix's site is never written, whatever the binding.
    #[test]
    fn an_alias_shadowed_at_the_site_is_not_written() {
        let torch = "import torch\nimport torch.nn.functional as F\n";
        let logsigmoid = "torch.nn.functional.logsigmoid";
        for (code, want) in [
            ("def f(x):\n    F = x.shape[-1]\n    return SITE * F\n", "torch.nn.functional.logsigmoid"),
            ("def f(x, F):\n    return SITE * F\n", "torch.nn.functional.logsigmoid"),
            ("def f(x, *, F=2):\n    return SITE * F\n", "torch.nn.functional.logsigmoid"),
            ("def f(xs):\n    for F in xs:\n        pass\n    return SITE\n", "torch.nn.functional.logsigmoid"),
            ("def f(xs):\n    return [SITE * F for F in xs]\n", "torch.nn.functional.logsigmoid"),
            ("g = lambda x, F: SITE * F\n", "torch.nn.functional.logsigmoid"),
            ("def f(x):\n    def g():\n        return SITE * F\n    F = 2\n    return g\n", logsigmoid),
            // A module-level rebinding after the import shadows it in every function...
            ("def f(x):\n    return SITE\nF = 3\n", "torch.nn.functional.logsigmoid"),
            // ... and in module-level code it reaches.
            ("F = 3\ny = SITE\n", "torch.nn.functional.logsigmoid"),
            // Not shadowed: a class attribute seen from a method, a comprehension elsewhere, a
            // function's own import, module-level code before the rebinding.
            ("class C:\n    F = 3\n    def f(self, x):\n        return SITE\n", "F.logsigmoid"),
            ("def f(xs):\n    a = [F for F in xs]\n    return SITE\n", "F.logsigmoid"),
            ("def g(F):\n    pass\ndef f(x):\n    return SITE\n", "F.logsigmoid"),
            ("def f(x):\n    import torch.nn.functional as F\n    return SITE\n", "F.logsigmoid"),
            ("y = SITE\nF = 3\n", "F.logsigmoid"),
            // A walrus, `except ... as`, `with ... as`, a `case` capture, an import of another
            // module under the name: each makes `F` something else at the site.
            ("def f(x):\n    n = (F := x.shape[-1])\n    return SITE * F\n", logsigmoid),
            ("def f(xs):\n    ys = [y for x in xs if (F := x)]\n    return SITE\n", logsigmoid),
            ("def f(x):\n    try:\n        pass\n    except E as F:\n        pass\n    return SITE\n", logsigmoid),
            ("def f(x):\n    with g() as F:\n        return SITE\n", logsigmoid),
            ("def f(x, k):\n    match k:\n        case F:\n            return SITE * F\n", logsigmoid),
            ("def f(x, k):\n    match k:\n        case [1, *F]:\n            return SITE\n", logsigmoid),
            ("def f(x, k):\n    match k:\n        case P(a=F):\n            return SITE\n", logsigmoid),
            ("def f(x, k):\n    match k:\n        case P() as F:\n            return SITE\n", logsigmoid),
            ("def f(x):\n    import numpy as F\n    return SITE\n", logsigmoid),
            ("(F := 3)\ny = SITE\n", logsigmoid),
            ("class C:\n    F = 3\n    y = SITE\n", logsigmoid),
            // A dotted value pattern and a class pattern's class capture nothing; `global F`
            // reads the module's.
            ("def f(x, k):\n    match k:\n        case F.x | P():\n            return SITE\n", "F.logsigmoid"),
            ("def f(x):\n    global F\n    return SITE\n", "F.logsigmoid"),
            // Python makes a name a function deletes local to it (an UnboundLocalError before
            // the `del`), and a type parameter is what the function reads under its name; a
            // lambda or a comprehension in a class body does not read the class's names, so a
            // class binding one is not trusted there (nor at module level).
            ("def f(x):\n    y = SITE\n    del F\n    return y\n", logsigmoid),
            ("def f(x):\n    y = SITE\n    del x, (F,)\n    return y\n", logsigmoid),
            ("def f[F](x):\n    return SITE\n", logsigmoid),
            ("class C:\n    import numpy as F\n    g = lambda x: SITE\n", logsigmoid),
            ("class C:\n    import numpy as F\n    g = [SITE for x in X]\n", logsigmoid),
            ("def f(x):\n    return SITE\ndel F\n", logsigmoid),
            // Deleted elsewhere: in a nested function, another function, a method's class.
            ("def f(x):\n    def g():\n        del F\n    return SITE\n", "F.logsigmoid"),
            ("def g():\n    global F\n    F = 1\ndef f(x, delta):\n    model = delta\n    return SITE\n", logsigmoid),
            ("def f(x, delta):\n    model = delta\n    return SITE\n", "F.logsigmoid"),
        ] {
            let src = format!("{torch}{code}");
            assert_eq!(spell_at_site(&src, logsigmoid, None), (want.to_string(), None), "{code}");
        }
        // The alias the call used is not written either when shadowed.
        let src = "import numpy\nimport numpy as np\n\ndef f(x):\n    np = len(x)\n    return SITE / np\n";
        assert_eq!(spell_at_site(src, "numpy.clip", Some("np")).0, "numpy.clip");
        // `tf = tf.compat.v1` keeps TensorFlow under the name.
        let src = "import tensorflow as tf\ntf = tf.compat.v1\n\ndef f(x):\n    return SITE\n";
        assert_eq!(spell_at_site(src, "tensorflow.math.log_sigmoid", None), ("tf.math.log_sigmoid".into(), None));
    }

    /// An alias imported only in another function is no name at the site (a NameError); one
    /// the site's own function imports only after it is unbound there.
    #[test]
    fn an_alias_another_function_imports_is_not_written() {
        let logsigmoid = "torch.nn.functional.logsigmoid";
        let other = "import torch\n\ndef a():\n    import torch.nn.functional as F\n    return F\n\n";
        for (code, want) in [
            ("def b(x):\n    return SITE\n", logsigmoid),
            ("y = SITE\n", logsigmoid),
            // Module-level code before the module's own import reads the module's.
            ("y = SITE\nimport torch.nn.functional as F\n", "F.logsigmoid"),
            ("y = SITE\nimport numpy as F\n", logsigmoid),
            ("class C:\n    def b(self, x):\n        return SITE\n", logsigmoid),
            ("def b(x):\n    y = SITE\n    import torch.nn.functional as F\n    return y\n", logsigmoid),
            // The site's own function, or one enclosing it, imports it first.
            ("def b(x):\n    import torch.nn.functional as F\n    return SITE\n", "F.logsigmoid"),
            ("def b(x):\n    import torch.nn.functional as F\n    def g():\n        return SITE\n", "F.logsigmoid"),
            ("def b(x):\n    def g():\n        return SITE\n    import torch.nn.functional as F\n", "F.logsigmoid"),
        ] {
            let src = format!("{other}{code}");
            assert_eq!(spell_at_site(&src, logsigmoid, None), (want.to_string(), None), "{code}");
        }
        // No other alias reaches it: a new import, at the module's top.
        let src = "def a():\n    import numpy as np\n\ndef b(x):\n    return SITE\n";
        let (spelled, fixed) = spell_at_site(src, "numpy.clip", None);
        assert_eq!(spelled, "numpy.clip");
        assert!(fixed.unwrap().starts_with("import numpy\n"));
    }

    /// An alias imported on some paths only (under a module-level `if`, in a `try` whose
    /// handler binds nothing, under an `if` in the function) may be unbound at the site, a
    /// NameError: it is written only where the import precedes the site in its own block, or
    /// where the code at the site already reads it (its statement outside a branch, or its
    /// function's body outside annotations).
    #[test]
    fn an_alias_imported_on_some_paths_only_is_written_where_the_site_reads_it() {
        let logsigmoid = "torch.nn.functional.logsigmoid";
        let under_if = "if HAVE:\n    import torch.nn.functional as F\n";
        for (code, want) in [
            (format!("{under_if}\ndef f(x):\n    return SITE\n"), logsigmoid),
            ("try:\n    import torch.nn.functional as F\nexcept ImportError:\n    pass\n\ndef f(x):\n    return SITE\n".into(), logsigmoid),
            (format!("{under_if}y = SITE\n"), logsigmoid),
            (format!("y = SITE\n{under_if}"), logsigmoid),
            ("def f(x, c):\n    if c:\n        import torch.nn.functional as F\n    return SITE\n".into(), logsigmoid),
            ("def f(x, c):\n    if c:\n        import torch.nn.functional as F\n    def g():\n        return SITE\n".into(), logsigmoid),
            // Read only in a branch of the statement (module-level code: no function), or only
            // in an annotation (`if TYPE_CHECKING:`).
            (format!("{under_if}y = SITE if c else F.relu(x)\n"), logsigmoid),
            (format!("{under_if}\ndef f(x: F.Tensor) -> F.Tensor:\n    y: F.Tensor = x\n    return SITE\n"), logsigmoid),
            // The statement or the function reads it already; the import precedes the site in
            // its block; every path imports it.
            (format!("{under_if}\ndef f(x):\n    return SITE + F.relu(x)\n"), "F.logsigmoid"),
            (format!("{under_if}\ndef f(x, c):\n    if c:\n        x = F.relu(x)\n    return SITE\n"), "F.logsigmoid"),
            (format!("{under_if}y = SITE * F.relu(x)\n"), "F.logsigmoid"),
            (format!("{under_if}    y = SITE\n"), "F.logsigmoid"),
            ("def f(x, c):\n    if c:\n        import torch.nn.functional as F\n        return SITE\n".into(), "F.logsigmoid"),
            (format!("{under_if}else:\n    import torch.nn.functional as F\n\ndef f(x):\n    return SITE\n"), "F.logsigmoid"),
        ] {
            let src = format!("import torch\n{code}");
            assert_eq!(spell_at_site(&src, logsigmoid, None), (want.to_string(), None), "{code}");
        }
    }

    /// When no alias reaches the site, the new import takes no name shadowed there.
    #[test]
    fn a_new_import_takes_no_name_shadowed_at_the_site() {
        let src = "from tensorflow.math import log\n\ndef f(z, tf):\n    return SITE / tf\n";
        let (spelled, fixed) = spell_at_site(src, "tensorflow.math.log_sigmoid", None);
        assert_eq!(spelled, "tensorflow.math.log_sigmoid");
        assert!(fixed.unwrap().starts_with("from tensorflow.math import log\nimport tensorflow.math\n"));
        let src = "from numpy import log\n\ndef f(x):\n    np = x.shape[0]\n    return SITE / np\n";
        let (spelled, fixed) = spell_at_site(src, "numpy.clip", None);
        assert_eq!(spelled, "numpy.clip");
        assert!(fixed.unwrap().starts_with("from numpy import log\nimport numpy\n"));
        // Unshadowed, the conventional alias as before.
        let src = "from numpy import log\n\ndef f(x):\n    return SITE\n";
        assert_eq!(spell_at_site(src, "numpy.clip", None).0, "np.clip");
    }

    /// Regression (a trial of the lead's): where no alias reaches the site, the new import fell
    /// back to the package's own name (`import torch.nn.functional`, spelled
    /// `torch.nn.functional.log_softmax`) without asking whether that name was shadowed there:
    /// in `def loss(x, torch):` the fix called an attribute of the parameter. Where the
    /// package's name is shadowed at the site (by anything Python binds in the scopes the site
    /// reads: a parameter, a local bound before or after, a comprehension's or a lambda's
    /// variable, a class attribute read in the class body, `del`, a nested function's
    /// enclosing local, a module-level class or `global` rebinding, a function's import of
    /// another module under it), there is no spelling: the fix is not offered.
    #[test]
    fn a_new_import_under_a_package_name_shadowed_at_the_site_is_not_made() {
        let spelling = |src: &str, target: &str| {
            let tree = parse(src);
            let model = Model::of(src, &tree);
            let at = src.find("SITE").expect("a SITE");
            let site = tree.root_node().descendant_for_byte_range(at, at + 4).unwrap();
            spell(&model, site, target, None).map(|(spelled, edit)| (spelled, edit.is_some()))
        };
        let head = "from torch.nn.functional import softmax\nfrom torch import log\n\n";
        for code in [
            "def f(x, torch):\n    return SITE\n",
            "def f(x, *torch):\n    return SITE\n",
            "def f(x):\n    torch = x.device\n    return SITE\n",
            "def f(x):\n    y = SITE\n    torch = 3\n    return y\n",
            "def f(x):\n    y = SITE\n    del torch\n    return y\n",
            "def f(xs):\n    return [SITE for torch in xs]\n",
            "g = lambda x, torch: SITE\n",
            "def f(x):\n    torch = x\n    def g():\n        return SITE\n    return g\n",
            "def f(x):\n    for torch in x:\n        pass\n    return SITE\n",
            "def f(x):\n    with g() as torch:\n        return SITE\n",
            "def f(x):\n    import numpy as torch\n    return SITE\n",
            "class A:\n    torch = 3\n    y = SITE\n",
            "class torch:\n    pass\n\ndef f(x):\n    return SITE\n",
            "torch = None\n\ndef f(x):\n    global torch\n    return SITE\n",
            "def f(x):\n    return SITE\n\ntorch = 3\n",
            "def f[torch](x):\n    return SITE\n",
        ] {
            let src = format!("{head}{code}");
            assert_eq!(spelling(&src, "torch.nn.functional.log_softmax"), None, "{code}");
        }
        // A class attribute is not what its methods read: the import is made.
        let src = format!("{head}class A:\n    torch = 3\n    def f(self, x):\n        return SITE\n");
        assert_eq!(
            spelling(&src, "torch.nn.functional.log_softmax"),
            Some(("torch.nn.functional.log_softmax".into(), true))
        );
        // The conventional alias shadowed, the package's name too: no spelling; the package's
        // name free: that (as before).
        let numpy = "from numpy import log\n\n";
        let src = format!("{numpy}def f(p, np, numpy):\n    return SITE\n");
        assert_eq!(spelling(&src, "numpy.maximum"), None);
        let src = format!("{numpy}def f(p, np):\n    return SITE\n");
        assert_eq!(spelling(&src, "numpy.maximum"), Some(("numpy.maximum".into(), true)));
        // `xlogy` taken and `scipy` shadowed: none; `xlogy` taken only: `scipy.special.xlogy`.
        let src = format!("{numpy}def f(p, xlogy, scipy):\n    return SITE\n");
        assert_eq!(spelling(&src, "scipy.special.xlogy"), None);
        let src = format!("{numpy}def f(p, xlogy):\n    return SITE\n");
        assert_eq!(spelling(&src, "scipy.special.xlogy"), Some(("scipy.special.xlogy".into(), true)));
        let tf = "from tensorflow.math import log\n\n";
        let src = format!("{tf}def f(z, tf, tensorflow):\n    return SITE\n");
        assert_eq!(spelling(&src, "tensorflow.math.log_sigmoid"), None);
        // A `name = None` fallback for a missing library is no shadowing where the site reads
        // the name: the module's own import is written, and none is added (a second `import
        // torch` in the `try` was ruff's F811).
        let src = "try:\n    import torch\nexcept ImportError:\n    torch = None\n\n\ndef a(z):\n    return SITE + torch.log(z)\n";
        let (spelled, fixed) = spell_at_site(src, "torch.log_softmax", None);
        assert_eq!(spelled, "torch.log_softmax");
        assert_eq!(fixed, None);
    }

    /// Regression (a newcomer's trial): with torch imported only in a `try` (its handler
    /// covering a missing library) or in the function, the safe `log_softmax` fix added `import
    /// torch` at the top, so the module no longer imported without torch (and, with no import
    /// there before, glued it onto the `def`). The new import goes beside the file's own import
    /// of the package that holds at the site.
    #[test]
    fn a_new_import_goes_beside_a_conditional_import_of_its_package() {
        let log_softmax = "torch.log_softmax";
        let cases = [
            (
                "try:\n    from torch import log, softmax\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return SITE\n",
                "try:\n    from torch import log, softmax\n    import torch\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "def a(z):\n    from torch import log, softmax\n    return SITE\n",
                "def a(z):\n    from torch import log, softmax\n    import torch\n    return SITE\n",
            ),
            // A comment after it, tabs, a nested function, an `if` in the function.
            (
                "def a(z):\n\tfrom torch import log  # mine\n\tdef g():\n\t\treturn SITE\n",
                "def a(z):\n\tfrom torch import log  # mine\n\timport torch\n\tdef g():\n\t\treturn SITE\n",
            ),
            (
                "def a(z, c):\n    if c:\n        from torch import log\n    return SITE\n",
                "def a(z, c):\n    if c:\n        from torch import log\n        import torch\n    return SITE\n",
            ),
            // On a line with other code: the same logical line.
            (
                "try: from torch import log\nexcept ImportError: pass\n\ndef a(z):\n    return SITE\n",
                "try: from torch import log; import torch\nexcept ImportError: pass\n\ndef a(z):\n    return SITE\n",
            ),
            // Under `if TYPE_CHECKING:` the site's function fails without it just as before.
            (
                "if TYPE_CHECKING:\n    from torch import log\n\ndef a(z):\n    return SITE\n",
                "if TYPE_CHECKING:\n    from torch import log\n    import torch\n\ndef a(z):\n    return SITE\n",
            ),
            // The function's own import, not the module's, holds at the site.
            (
                "try:\n    from torch import log\nexcept ImportError:\n    pass\n\ndef a(z):\n    from torch import log\n    return SITE\n",
                "try:\n    from torch import log\nexcept ImportError:\n    pass\n\ndef a(z):\n    from torch import log\n    import torch\n    return SITE\n",
            ),
            // The handler binds `None` for a missing library: the code at the site reads the
            // name, so it runs where the import did (with `None` it fails on the call anyway).
            (
                "try:\n    from torch import log\nexcept ImportError:\n    log = None\n\n\ndef a(z):\n    return SITE\n",
                "try:\n    from torch import log\n    import torch\nexcept ImportError:\n    log = None\n\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "log = None\nif A:\n    from torch import log\n\n\ndef a(z):\n    return SITE\n",
                "log = None\nif A:\n    from torch import log\n    import torch\n\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "if A:\n    from torch import log\nelse:\n    log = None\n\n\ndef a(z):\n    return SITE\n",
                "if A:\n    from torch import log\n    import torch\nelse:\n    log = None\n\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "def a(z):\n    try:\n        from torch import log\n    except ImportError:\n        log = None\n    return SITE\n",
                "def a(z):\n    try:\n        from torch import log\n        import torch\n    except ImportError:\n        log = None\n    return SITE\n",
            ),
            // Every branch of an `if` ends with the import: after the `if`, with its indentation.
            (
                "if A:\n    from torch import log\nelse:\n    from torch import log\n\n\ndef a(z):\n    return SITE\n",
                "if A:\n    from torch import log\nelse:\n    from torch import log\nimport torch\n\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "try:\n    if A:\n        x = 1\n        from torch import log\n    elif B:\n        from torch import log  # B\n    else:\n        if C:\n            from torch import log\n        else:\n            from torch import log\nexcept ImportError:\n    log = None\n\ndef a(z):\n    return SITE\n",
                "try:\n    if A:\n        x = 1\n        from torch import log\n    elif B:\n        from torch import log  # B\n    else:\n        if C:\n            from torch import log\n        else:\n            from torch import log\n    import torch\nexcept ImportError:\n    log = None\n\ndef a(z):\n    return SITE\n",
            ),
            (
                "def a(z, c):\n    if c:\n        from torch import log\n    else:\n        from torch import log\n    return SITE\n",
                "def a(z, c):\n    if c:\n        from torch import log\n    else:\n        from torch import log\n    import torch\n    return SITE\n",
            ),
            // A `try` in the function whose handler leaves it, the site after it.
            (
                "def a(z):\n    try:\n        from torch import log\n    except ImportError:\n        return None\n    else:\n        print(1)\n    return SITE\n",
                "def a(z):\n    try:\n        from torch import log\n        import torch\n    except ImportError:\n        return None\n    else:\n        print(1)\n    return SITE\n",
            ),
            (
                "def a(z):\n    try:\n        import numpy\n    except ImportError:\n        return None\n    else:\n        from torch import log\n    return SITE\n",
                "def a(z):\n    try:\n        import numpy\n    except ImportError:\n        return None\n    else:\n        from torch import log\n        import torch\n    return SITE\n",
            ),
        ];
        for (src, want) in cases {
            let (src, want) = (src.replace("SITE", "SITE + log(z)"), want.replace("SITE", "SITE + log(z)"));
            let (spelled, fixed, caveats) = spell_at_site_with_caveats(&src, log_softmax, None);
            assert_eq!((spelled.as_str(), fixed.as_deref()), ("torch.log_softmax", Some(want.as_str())), "{src}");
            assert_eq!(caveats, [] as [String; 0], "{src}");
        }
        // `from M import f` joins the `from M import ...` it goes beside.
        let src = "import numpy as np\ntry:\n    from scipy.special import softmax\nexcept ImportError:\n    pass\n\ndef a(p):\n    return SITE + softmax(p)\n";
        let (spelled, fixed, caveats) = spell_at_site_with_caveats(src, "scipy.special.xlogy", None);
        assert_eq!(spelled, "xlogy");
        assert_eq!(fixed.unwrap(), src.replace("import softmax\n", "import softmax, xlogy\n"));
        assert_eq!(caveats, [] as [String; 0]);
    }

    /// Where no import of the package holds at the site (another function's; a fallback the
    /// site need not fail with: the site does not read the name, or the handler binds another
    /// function; a name two imports bind, unless each ends a branch of one `if` with an `else`
    /// and the `if` ends its line), the import goes at the top, and the fix is made unsafe,
    /// saying why. A module-level statement of the package anywhere keeps the top, as ever.
    #[test]
    fn a_new_import_no_conditional_import_holds_for_goes_at_the_top_with_a_caveat() {
        let caveat = "adds `import torch` at the top, where the module imports torch only conditionally";
        for src in [
            "def b():\n    from torch import log\n    return log\n\n\ndef a(z):\n    return SITE + log(z)\n",
            "try:\n    from torch import log\nexcept ImportError:\n    log = None\n\n\ndef a(z):\n    return SITE\n",
            "try:\n    from torch import log\nexcept ImportError:\n    log = None\n\n\ndef b(z):\n    return log(z)\n\n\ndef a(z):\n    return SITE\n",
            "try:\n    from torch import log\nexcept ImportError:\n    log = my_log\n\n\ndef a(z):\n    return SITE + log(z)\n",
            "try:\n    from torch import log\nexcept ImportError:\n    log = None\n\n\ndef a(z):\n    log = None\n    return SITE + log(z)\n",
            "if A:\n    from torch import log\nelif B:\n    from torch import log\n\n\ndef a(z):\n    return SITE + log(z)\n",
            "if A:\n    from torch import log\n    check()\nelse:\n    from torch import log\n\n\ndef a(z):\n    return SITE + log(z)\n",
            "if A:\n    from torch import log\nelse:\n    from torch import log\nif B:\n    from torch import log\n\ndef a(z):\n    return SITE + log(z)\n",
            "if A:\n    from torch import log\nelse: from torch import log; x = 1\n\n\ndef a(z):\n    return SITE + log(z)\n",
            "def a(z):\n    return SITE + log(z)\nif A:\n    from torch import log\nelse: from torch import log",
        ] {
            let (spelled, fixed, caveats) = spell_at_site_with_caveats(src, "torch.log_softmax", None);
            assert_eq!(spelled, "torch.log_softmax");
            let fixed = fixed.unwrap();
            assert!(fixed.starts_with("import torch\n") && fixed.ends_with(src), "{fixed}");
            assert_eq!(caveats, [caveat], "{src}");
        }
        let plain = "import torch.nn as nn\ntry:\n    from torch import log\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return SITE\n";
        let (_, fixed, caveats) = spell_at_site_with_caveats(plain, "torch.log_softmax", None);
        assert_eq!(fixed.unwrap(), plain.replace("as nn\n", "as nn\nimport torch\n"));
        assert_eq!(caveats, [] as [String; 0]);
        let late = "def a(z):\n    from torch import log\n    return SITE\n\n\nimport torch.nn as nn\n";
        let (_, fixed, caveats) = spell_at_site_with_caveats(late, "torch.log_softmax", None);
        assert_eq!(fixed.unwrap(), format!("import torch\n\n\n{late}"));
        assert_eq!(caveats, [] as [String; 0]);
    }

    /// An import added at the top right above a `def` or a `class` (or the comments right above
    /// one) takes two blank lines after it (PEP 8; ruff's isort); one followed by a blank line
    /// or by other code takes none.
    #[test]
    fn a_new_import_before_a_definition_takes_two_blank_lines() {
        let fixed = |src: &str| spell_in(src, "torch.log_softmax").1.unwrap();
        assert_eq!(fixed("def a(z):\n    pass\n"), "import torch\n\n\ndef a(z):\n    pass\n");
        assert_eq!(
            fixed("\"\"\"Doc.\"\"\"\n@f\nclass A:\n    pass\n"),
            "\"\"\"Doc.\"\"\"\nimport torch\n\n\n@f\nclass A:\n    pass\n"
        );
        assert_eq!(fixed("# a helper\ndef a(z):\n    pass\n"), "import torch\n\n\n# a helper\ndef a(z):\n    pass\n");
        assert_eq!(
            fixed("import numpy\r\ndef a(z):\r\n    pass\r\n"),
            "import numpy\r\nimport torch\r\n\r\n\r\ndef a(z):\r\n    pass\r\n"
        );
        assert_eq!(
            fixed("import numpy\n\n\ndef a(z):\n    pass\n"),
            "import numpy\nimport torch\n\n\ndef a(z):\n    pass\n"
        );
        assert_eq!(fixed("x = 1\ndef a(z):\n    pass\n"), "import torch\nx = 1\ndef a(z):\n    pass\n");
        assert_eq!(fixed("\"\"\"Doc.\"\"\"\nx = 1\n"), "\"\"\"Doc.\"\"\"\nimport torch\nx = 1\n");
    }
}
