"""What "reads in Korean" means for the report's texts (summary, course result, quick label).

A translated text must hold Hangul and no English word of three or more letters, except:
- names the course writes in Latin letters too (NAMES: optimizers, networks, initializations,
  MNIST, MSE/SSE, nan, Python's RuntimeWarning);
- code: an identifier with a digit or an underscore (float16, x_train, W1, d_apple), a function
  in a formula (sigmoid(0), softmax([...]), max(a));
- text the caller names as code (`code`: a record's key path, the full report's file path).
"""

from __future__ import annotations

import re

from dlscratch.experiments.korean import experiment_table, translate
from dlscratch.fonts import is_hangul

NAMES = {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "ReLU", "He", "Xavier",
         "MNIST", "CNN", "VGG", "GoogLeNet", "ResNet", "SimpleConvNet", "DeepConvNet",
         "TwoLayerNet", "MSE", "SSE", "nan", "RuntimeWarning", "img"}


def english_words(text: str) -> list[str]:
    """The English words of 3+ letters in `text` that are neither NAMES nor code."""
    words = []
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9_]*", text):
        word = match[0]
        called = text[match.end():match.end() + 1] == "("
        if len(word) >= 3 and word.isalpha() and word not in NAMES and not called:
            words.append(word)
    return words


def assert_korean(text: str, what: str, code: tuple[str, ...] = ()) -> None:
    """`text` (a translation) holds Hangul and, `code` aside, no English word."""
    assert any(is_hangul(c) for c in text), f"{what} is not in Korean: {text!r}"
    rest = text
    for part in code:
        rest = rest.replace(part, " ")
    assert not english_words(rest), f"{what} keeps English {english_words(rest)}: {text!r}"


def assert_summary_korean(record: dict) -> None:
    """A run's summary, translated by its experiment's table, reads in Korean."""
    text = translate(record["summary"], experiment_table(record["name"]))
    assert_korean(text, f"{record['name']}'s summary")
