//! Constant folding: the value of an expression made of literals, `math.pi`-like constants and
//! arithmetic on them.

use tree_sitter::Node;

use super::imports::Imports;
use crate::syntax::{Args, FIELD, KindName, text};

/// How deep constant expressions are folded before giving up.
const MAX_DEPTH: u32 = 24;

/// The value of a numeric literal (`1e-7`, `0x10`, `1_000`); `None` for imaginary ones.
pub fn literal_value(literal: &str) -> Option<f64> {
    let cleaned: String = literal.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return u128::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if let Some(oct) = lower.strip_prefix("0o") {
        return u128::from_str_radix(oct, 8).ok().map(|v| v as f64);
    }
    if let Some(bin) = lower.strip_prefix("0b") {
        return u128::from_str_radix(bin, 2).ok().map(|v| v as f64);
    }
    if lower.ends_with('j') {
        return None; // imaginary
    }
    lower.trim_end_matches('l').parse::<f64>().ok()
}

/// Kinds that may hold a constant expression (see [`constant`]).
pub fn is_constant_kind(kind: &str) -> bool {
    matches!(
        kind,
        "integer" | "float" | "unary_operator" | "binary_operator" | "parenthesized_expression" | "attribute" | "call"
    )
}

/// The value of a constant expression: numeric literals, `pi` and `e` of `math`, NumPy, PyTorch
/// and `jax.numpy` (through `imports`), `float(...)`, `sqrt(...)`, and `+ - * / // **` on them.
/// `None` for anything else, or a result that is not finite.
pub fn constant(node: Node, src: &str, imports: &Imports) -> Option<f64> {
    constant_at(node, src, imports, 0)
}

fn constant_at(node: Node, src: &str, imports: &Imports, depth: u32) -> Option<f64> {
    if depth > MAX_DEPTH {
        return None;
    }
    let inner = |n: Option<Node>| constant_at(n?, src, imports, depth + 1);
    let value = match node.kind_name() {
        "integer" | "float" => literal_value(text(node, src))?,
        "parenthesized_expression" => inner(node.named_child(0))?,
        "unary_operator" => {
            let x = inner(node.child_by_field_id(FIELD.argument))?;
            match node.child_by_field_id(FIELD.operator)?.kind_name() {
                "-" => -x,
                "+" => x,
                _ => return None,
            }
        }
        "binary_operator" => {
            let l = inner(node.child_by_field_id(FIELD.left))?;
            let r = inner(node.child_by_field_id(FIELD.right))?;
            match node.child_by_field_id(FIELD.operator)?.kind_name() {
                "+" => l + r,
                "-" => l - r,
                "*" => l * r,
                "/" if r != 0.0 => l / r,
                "//" if r != 0.0 => (l / r).floor(),
                "**" => l.powf(r),
                _ => return None,
            }
        }
        "attribute" => {
            let path = imports.resolve(node, src)?;
            match path.as_str() {
                "math.pi" | "numpy.pi" | "torch.pi" | "jax.numpy.pi" | "scipy.constants.pi" => std::f64::consts::PI,
                "math.e" | "numpy.e" | "torch.e" | "jax.numpy.e" => std::f64::consts::E,
                "math.tau" => std::f64::consts::TAU,
                _ => return None,
            }
        }
        "call" => {
            // The callee first: folding the argument of every call (`log(log(...))`) made each
            // evaluation of a nested call walk the calls below it.
            let function = node.child_by_field_id(FIELD.function)?;
            let float = function.kind_name() == "identifier" && text(function, src) == "float";
            let sqrt = !float
                && imports
                    .resolve(function, src)
                    .is_some_and(|name| matches!(name.as_str(), "math.sqrt" | "numpy.sqrt" | "jax.numpy.sqrt"));
            if !float && !sqrt {
                return None;
            }
            let args = Args::of(node);
            let [x] = args.positional.as_slice() else { return None };
            let x = inner(Some(*x))?;
            if float {
                x
            } else if x >= 0.0 {
                x.sqrt()
            } else {
                return None;
            }
        }
        _ => return None,
    };
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    /// The constant value of the right side of the last line `x = ...`.
    fn folded(expr: &str) -> Option<f64> {
        let src = format!("import math\nimport numpy as np\nimport torch\nx = {expr}\n");
        let tree = parse(&src);
        let imports = Imports::collect(tree.root_node(), &src);
        let stmt = tree.root_node().named_child(3).unwrap();
        let right = stmt.named_child(0).unwrap().child_by_field_id(FIELD.right).unwrap();
        constant(right, &src, &imports)
    }

    #[test]
    fn constant_expressions_fold() {
        assert_eq!(folded("(1 - 0.01) / 0.01").map(|v| v.round()), Some(99.0));
        assert_eq!(folded("2 ** 10"), Some(1024.0));
        assert_eq!(folded("-3 // 2"), Some(-2.0));
        assert_eq!(folded("0x10 + 0o10 + 0b10 + 1_000"), Some(1026.0));
        assert_eq!(folded("2.0 * np.pi"), Some(2.0 * std::f64::consts::PI));
        assert_eq!(folded("math.sqrt(4.0) * float(3)"), Some(6.0));
        assert_eq!(folded("1 - 0.5 * 2"), Some(0.0));
        // Not constants, or not finite.
        assert_eq!(folded("1 / 0"), None);
        assert_eq!(folded("10.0 ** 400"), None);
        assert_eq!(folded("2 * n"), None);
        assert_eq!(folded("1j"), None);
        assert_eq!(folded("pi"), None, "an un-imported `pi` is just a name");
        assert_eq!(folded("np.sqrt(-1.0)"), None);
    }

    #[test]
    fn deep_constant_expressions_give_up_without_overflow() {
        let deep = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert_eq!(folded(&deep), None);
        let long = vec!["1"; 3000].join(" + ");
        assert_eq!(folded(&long), None);
        assert_eq!(folded("1 + 1 + 1"), Some(3.0));
    }
}
