"""'Show me the code': a network playground configuration as runnable NumPy and PyTorch scripts.

Both functions take ``PlaygroundModel.config()`` and return the text of a complete
script: the same data (``playground_data``), the same features, the same layers,
initialisation, loss, optimizer, regularisation and mini-batch training, ending with
``train_loss`` and ``test_loss`` measured in evaluation mode. The NumPy script is the
loop ``PlaygroundModel.step()`` runs, so with the same seed it computes the same weights;
PyTorch draws other random numbers, so it ends at a similar, not an equal, loss.
"""

from __future__ import annotations


def _data_and_features(config: dict) -> list[str]:
    columns = ", ".join(config["feature_expressions"])
    return [
        "X_train, y_train, X_test, y_test = playground_data(",
        f'    "{config["dataset"]}",',
        f"    n_points={config['n_points']},",
        f"    noise={config['noise']!r},",
        f"    train_fraction={config['train_fraction']!r},",
        f"    seed={config['seed']},",
        ")",
        "",
        "",
        "def features(X):",
        '    """The inputs the network sees, computed from the coordinates x1, x2."""',
        "    x1, x2 = X[:, 0], X[:, 1]",
        f"    return np.column_stack([{columns}]).astype(np.float32)",
        "",
        "",
    ]


def _layer_lines(config: dict, linear: str, dropout: str) -> list[str]:
    """``nn.Sequential``'s arguments, one per line. ``linear`` and ``dropout`` are format
    strings for a layer of ``n_in`` inputs and ``n_out`` units, and a dropout rate ``p``;
    both libraries name the activations ``nn.ReLU()``, ``nn.Tanh()``, ``nn.Sigmoid()``."""
    activation = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()"}.get(
        config["activation"]
    )
    outputs = 2 if config["classification"] else 1
    sizes = [len(config["feature_expressions"]), *config["hidden"], outputs]
    lines = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        lines.append("    " + linear.format(n_in=n_in, n_out=n_out) + ",")
        if index < len(sizes) - 2:
            if activation:  # "linear" has no activation layer
                lines.append(f"    {activation},")
            if config["dropout"]:
                lines.append("    " + dropout.format(p=config["dropout"]) + ",")
    return lines


def _regularization(config: dict) -> tuple[float, str]:
    """The L1 strength (0 without L1), and the optimizer's L2 argument ("" without L2)."""
    rate, kind = config["regularization_rate"], config["regularization"]
    return (rate if kind == "L1" else 0.0), (f", weight_decay={rate!r}" if kind == "L2" else "")


def numpy_code(config: dict) -> str:
    """A script that builds and trains the configuration with ``widgets.numpy_nn``."""
    layers = _layer_lines(
        config,
        'nn.Dense({n_in}, {n_out}, rng=rng, init="' + config["init"] + '")',
        "nn.Dropout({p!r}, rng=rng)",
    )
    loss = "nn.SoftmaxCrossEntropy()" if config["classification"] else "nn.MSE()"
    l1, decay = _regularization(config)
    lines = [
        "import numpy as np",
        "",
        "from widgets import numpy_nn as nn",
        "from widgets.playground_data import playground_data",
        "",
        *_data_and_features(config),
        "F_train, F_test = features(X_train), features(X_test)",
        f"rng = np.random.default_rng({config['seed']})  # initial weights, batch order, dropout",
        "model = nn.Sequential(",
        *layers,
        ")",
        f"loss_fn = {loss}",
        f"optimizer = nn.{config['optimizer']}(model.parameters(), model.gradients(), "
        f"lr={config['lr']!r}{decay})",
        f"for epoch in range({config['epochs']}):",
        "    model.train()",
        "    for x_batch, y_batch in nn.iterate_minibatches("
        f"F_train, y_train, {config['batch_size']}, rng=rng):",
        "        loss_fn.forward(model.forward(x_batch), y_batch)",
        "        model.backward(loss_fn.backward(), input_grad=False)",
        *(
            [f"        nn.add_l1_gradient(model.parameters(), model.gradients(), {l1!r})"]
            if l1
            else []
        ),
        "        optimizer.step()",
        "train_loss, _ = nn.evaluate(model, loss_fn, F_train, y_train)",
        "test_loss, _ = nn.evaluate(model, loss_fn, F_test, y_test)",
        f'print(f"after {config["epochs"]} epochs: train loss {{train_loss:.3f}}, '
        'test loss {test_loss:.3f}")',
    ]
    return "\n".join(lines) + "\n"


def torch_code(config: dict) -> str:
    """A script that builds and trains the same configuration with PyTorch."""
    layers = _layer_lines(config, "nn.Linear({n_in}, {n_out})", "nn.Dropout({p!r})")
    if config["init"] == "he":
        init = 'nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # like init="he"'
    else:
        init = 'nn.init.xavier_uniform_(layer.weight)  # like numpy_nn\'s init="xavier"'
    loss = "nn.CrossEntropyLoss()" if config["classification"] else "nn.MSELoss()"
    l1, decay = _regularization(config)
    lines = [
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        "from widgets.playground_data import playground_data",
        "",
        *_data_and_features(config),
        "F_train, F_test = (torch.from_numpy(features(X)) for X in (X_train, X_test))",
        "Y_train, Y_test = torch.from_numpy(y_train), torch.from_numpy(y_test)",
        f"torch.manual_seed({config['seed']})",
        "model = nn.Sequential(",
        *layers,
        ")",
        "for layer in model:",
        "    if isinstance(layer, nn.Linear):",
        f"        {init}",
        "        nn.init.zeros_(layer.bias)",
        f"loss_fn = {loss}",
        f"optimizer = torch.optim.{config['optimizer']}("
        f"model.parameters(), lr={config['lr']!r}{decay})",
        f"for epoch in range({config['epochs']}):",
        "    model.train()",
        f"    for batch in torch.randperm(len(F_train)).split({config['batch_size']}):",
        "        loss = loss_fn(model(F_train[batch]), Y_train[batch])",
        *(
            [f"        loss = loss + {l1!r} * sum(p.abs().sum() for p in model.parameters())"]
            if l1
            else []
        ),
        "        optimizer.zero_grad()",
        "        loss.backward()",
        "        optimizer.step()",
        "model.eval()",
        "with torch.no_grad():",
        "    train_loss = loss_fn(model(F_train), Y_train).item()",
        "    test_loss = loss_fn(model(F_test), Y_test).item()",
        f'print(f"after {config["epochs"]} epochs: train loss {{train_loss:.3f}}, '
        'test loss {test_loss:.3f}")',
    ]
    return "\n".join(lines) + "\n"
