def test_sgd_learns_slowest_and_every_optimizer_lowers_the_loss(needs_mnist, run_quick):
    record = run_quick("optimizer-mnist")
    final = record["numbers"]["final_mean_loss"]
    first = record["numbers"]["first_loss"]
    assert set(final) == {"SGD", "Momentum", "AdaGrad", "Adam", "RMSprop", "Nesterov"}
    assert record["params"]["optimizers"]["Adam"] == 0.001
    for name, loss in final.items():
        assert loss < 0.5 * first[name], name
    # SGD is the slowest by a clear margin; the others end well below it.
    others = [loss for name, loss in final.items() if name != "SGD"]
    assert max(others) < 0.7 * final["SGD"]
    smoothed = record["numbers"]["final_smoothed_loss"]
    assert max(smoothed, key=smoothed.get) == "SGD"
