import pytest


def test_shopping_graph_numbers(run_quick):
    numbers = run_quick("shopping-graph")["numbers"]
    apples = numbers["apples"]
    assert [apples[k] for k in ("price", "d_apple", "d_apple_num", "d_tax")] == pytest.approx(
        [220, 2.2, 110, 200])
    both = numbers["apples_and_oranges"]
    keys = ("price", "d_apple_num", "d_apple", "d_orange", "d_orange_num", "d_tax")
    assert [both[k] for k in keys] == pytest.approx([715, 110, 2.2, 3.3, 165, 650])
