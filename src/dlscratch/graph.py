"""Computational graphs of chapter 5: multiply and add nodes, and the course's shopping examples.

Each node remembers what its backward pass needs. Backward takes d(price)/d(output) and returns
the derivatives with respect to each input (chain rule, one node at a time).
"""

from __future__ import annotations


class MulLayer:
    """z = x * y;  dz/dx = y, dz/dy = x."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddLayer:
    """z = x + y;  dz/dx = dz/dy = 1."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout * 1, dout * 1


def buy_apples(apple: float = 100, apple_num: float = 2, tax: float = 1.1) -> dict[str, float]:
    """Price of `apple_num` apples with tax, and its derivative with respect to each input.

    Course numbers: price 220, d/d(apple) 2.2, d/d(apple_num) 110, d/d(tax) 200.
    """
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    price = mul_tax.forward(apple_price, tax)

    d_apple_price, d_tax = mul_tax.backward(1)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    return {"price": price, "apple_price": apple_price, "d_apple": d_apple,
            "d_apple_num": d_apple_num, "d_tax": d_tax, "d_apple_price": d_apple_price}


def buy_apples_and_oranges(
    apple: float = 100, apple_num: float = 2, orange: float = 150, orange_num: float = 3,
    tax: float = 1.1,
) -> dict[str, float]:
    """Two apples and three oranges with tax: price 715, d/d(apple_num) 110, d/d(apple) 2.2,
    d/d(orange) 3.3, d/d(orange_num) 165, d/d(tax) 650."""
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    total = add_fruit.forward(apple_price, orange_price)
    price = mul_tax.forward(total, tax)

    d_total, d_tax = mul_tax.backward(1)
    d_apple_price, d_orange_price = add_fruit.backward(d_total)
    d_orange, d_orange_num = mul_orange.backward(d_orange_price)
    d_apple, d_apple_num = mul_apple.backward(d_apple_price)
    return {"price": price, "apple_price": apple_price, "orange_price": orange_price,
            "total": total, "d_apple": d_apple, "d_apple_num": d_apple_num,
            "d_orange": d_orange, "d_orange_num": d_orange_num, "d_tax": d_tax,
            "d_total": d_total}
