"""NL106 fixtures: nothing here may be reported."""
import torch
import torch.nn.functional as F
from scipy import special


def entropies(logits, p):
    a = torch.distributions.Categorical(logits=logits).entropy()
    probs = F.softmax(logits, dim=-1)
    b = -torch.xlogy(probs, probs).sum(-1)
    c = special.entr(p).sum(-1)
    return a, b, c


def not_an_entropy(logits, x):
    # exp(x) * x of a value that is no log-probability cannot be 0 * -inf.
    logp = F.log_softmax(logits, dim=-1)
    return torch.exp(x) * x, torch.exp(logp) * logits


def suppressed(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(torch.exp(logp) * logp).sum(-1)  # noqa: NL106


def named_probabilities(logits, other):
    # `p` is bound to exp(logp), but `logp` is bound again before the product, or `p` is.
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    a = torch.xlogy(p, p).sum(-1)
    logp = other
    b = (p * logp).sum(-1)
    q = torch.exp(F.log_softmax(logits, dim=-1))
    q = torch.ones_like(q)
    return a, b, q


def nan_skipped(scores):
    # The NaN is the author's to skip (transformers' typical-p sampling).
    normalized = F.log_softmax(scores, dim=-1)
    p = torch.exp(normalized)
    a = -(normalized * p).nansum(-1, keepdim=True)
    b = -torch.nansum(torch.exp(normalized) * normalized, dim=-1)
    q = F.softmax(scores, dim=-1)
    c = torch.nan_to_num(q * torch.log(q)).sum(-1)
    # Through a name: every use of `h` skips the NaN.
    h = normalized * p
    d = -h.nansum(-1)
    return a, b, c, d


def smoothed_in_a_loop(logits, n):
    # `p` (or `logp`) is bound again in the loop: from its second pass the product is no entropy
    # of `logits`, and no fix may rewrite it as one.
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    for _ in range(n):
        ent = -(p * logp).sum(-1)
        p = 0.5 * p + 0.5 / p.shape[-1]
    return ent


def shifted_in_a_loop(logits, n):
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    ent = 0.0
    while n > 0:
        ent = ent - (p * logp).sum(-1)
        logp = logp - 1.0
        n -= 1
    return ent
