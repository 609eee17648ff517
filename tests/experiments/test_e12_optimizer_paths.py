def test_sgd_zigzags_and_adagrad_ends_nearer_than_sgd(run_quick):
    numbers = run_quick("optimizer-paths")["numbers"]
    assert numbers["sgd_y_transitions"] == 30
    assert numbers["sgd_y_sign_flips"] >= 25
    assert (numbers["AdaGrad"]["distance_to_origin"]
            < numbers["SGD"]["distance_to_origin"])
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"):
        assert numbers[name]["distance_to_origin"] < 7.3  # all closer than the start
