def test_activation_distributions_follow_the_weight_scale(run_quick):
    numbers = run_quick("init-activations")["numbers"]
    he, small = numbers["ReLU, He"]["std"], numbers["ReLU, std 0.01"]["std"]
    assert len(he) == len(small) == 5
    # He keeps the ReLU activations spread: the 5th layer about as wide as the 1st ...
    assert 0.5 < he[4] / he[0] < 2.0
    # ... std 0.01 collapses them towards 0 layer by layer.
    assert small[4] < 1e-4 * small[0]
    assert all(a > b for a, b in zip(small[:-1], small[1:], strict=True))
    # Xavier with ReLU shrinks too, but far more slowly than std 0.01.
    xavier = numbers["ReLU, Xavier"]["std"]
    assert small[4] < xavier[4] < he[4]

    # sigmoid, std 1: most values sit near 0 or 1 in every layer.
    sig1 = numbers["sigmoid, std 1"]
    for low, high in zip(sig1["frac_below_0.05"], sig1["frac_above_0.95"], strict=True):
        assert low + high > 0.5
        assert low > 0.2 and high > 0.2
    # sigmoid, std 0.01: everything near 0.5.
    sig_small = numbers["sigmoid, std 0.01"]
    assert min(sig_small["frac_within_0.1_of_0.5"]) > 0.99
    assert max(sig_small["std"]) < 0.05
    # Xavier: spread, with (almost) nothing at the saturated ends.
    sig_xavier = numbers["sigmoid, Xavier"]
    assert min(sig_xavier["std"]) > 0.08
    assert max(sig_xavier["frac_above_0.95"]) < 0.01
