"""Class names in Korean for the page's `?lang=ko` (the English ones are dlscratch.data's)."""

from __future__ import annotations

KOREAN = {
    "fashion-mnist": ("티셔츠/탑", "바지", "풀오버", "드레스", "코트", "샌들", "셔츠", "스니커즈",
                      "가방", "앵클 부츠"),
}


def korean_class_names(dataset: str, english: list[str]) -> list[str]:
    """The dataset's class names in Korean; digits (MNIST) are the same in both languages."""
    names = KOREAN.get(dataset)
    return list(names) if names is not None and len(names) == len(english) else list(english)
