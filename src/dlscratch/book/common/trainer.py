"""The book's `common/trainer.py`: `Trainer`, the training loop of chapters 6-8.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20,
                      mini_batch_size=100, optimizer='Adam', optimizer_param={'lr': 0.001},
                      evaluate_sample_num_per_epoch=1000)
    trainer.train()      # prints the book's lines; returns None
    trainer.train_loss_list, trainer.train_acc_list, trainer.test_acc_list

As the book's, and unlike dlscratch's own Trainer (`dlscratch.train`):
- each mini-batch is `np.random.choice(train_size, batch_size)`: drawn with replacement from
  NumPy's global random state;
- the loss recorded (and printed, `train loss:<loss>`) is the same batch's loss *after* the
  update;
- accuracy is measured when `current_iter % iter_per_epoch == 0` - after the very first update
  (labelled epoch 1), then every `iter_per_epoch` iterations (a float: 60000 / 100 = 600.0) -
  on the first `evaluate_sample_num_per_epoch` samples of each set when given (no shuffling),
  printing `=== epoch:<k>, train acc:<a>, test acc:<b> ===`;
- after `int(epochs * iter_per_epoch)` steps the full test set is measured and printed under
  `=============== Final Test Accuracy ===============`.
The optimizers are dlscratch's, chosen by name: sgd, momentum, nesterov, adagrad, rmsprop (also
the Korean repository's spelling 'rmsprpo'), adam.
"""

import numpy as np

from dlscratch.book.common.optimizer import SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop

OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adagrad": AdaGrad,
              "rmsprop": RMSprop, "rmsprpo": RMSprop, "adam": Adam}


class Trainer:
    """Trains `network` (anything with params, gradient, loss and accuracy) the book's way."""

    def __init__(self, network, x_train, t_train, x_test, t_test,
                 epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param={"lr": 0.01},  # noqa: B006 - the book's default
                 evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        self.optimizer = OPTIMIZERS[optimizer.lower()](**optimizer_param)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            k = self.evaluate_sample_num_per_epoch
            if k is not None:
                x_train_sample, t_train_sample = self.x_train[:k], self.t_train[:k]
                x_test_sample, t_test_sample = self.x_test[:k], self.t_test[:k]
            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, "
                      f"test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self):
        for _ in range(self.max_iter):
            self.train_step()

        test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
