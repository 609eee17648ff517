"""PLACEHOLDER being rewritten: DataParallel(net) wraps a network for the Trainer."""


class DataParallel:
    def __init__(self, net):
        self.net = net

    @property
    def params(self):
        return self.net.params

    @property
    def last_loss(self):
        return self.net.last_loss

    def gradient(self, x, t):
        return self.net.gradient(x, t)

    def loss(self, x, t, train_flg=False):
        return self.net.loss(x, t, train_flg)

    def predict(self, x, train_flg=False, batch_size=None):
        return self.net.predict(x, train_flg, batch_size)

    def accuracy(self, x, t, batch_size=1000):
        return self.net.accuracy(x, t, batch_size)
