"""`dlscratch serve`: a local web page to draw a digit on and watch the network classify it.

    catalogue = Catalogue(Path("runs"), start=Path("runs/latest/model.npz"))
    server = make_server(catalogue, "127.0.0.1", 8000)   # a ThreadingHTTPServer
    server.serve_forever()

- `catalogue`: the models offered (the start model and the runs under the runs folder), chosen
  by id only, each loaded once and kept, with a lock per model;
- `inference`: one drawing through a model: probabilities, the top 3, the 28x28 input and the
  activations (the first convolution's feature maps, the hidden layers);
- `payload`: a request body -> PNG bytes and a model id, with the limits (2 MB, 4 megapixels);
- `app`: the HTTP handler (the page, `GET /api/models`, `POST /api/predict`) and the server;
- `static/`: the page itself (HTML, script, style, icon), shipped inside the package.

The drawing is read by `dlscratch.data.images.load_digit_image`, the same preprocessing as
`dlscratch predict`.
"""

from dlscratch.serve.app import make_server
from dlscratch.serve.catalogue import Catalogue, ModelNotFound

__all__ = ["Catalogue", "ModelNotFound", "make_server"]
