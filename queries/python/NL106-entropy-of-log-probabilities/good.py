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
