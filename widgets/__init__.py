"""The course's small package: interactive widgets, data helpers and exercise checks.

Lessons import from here, so each piece of code has exactly one home (see DESIGN.md):

- ``widgets.data``: datasets on disk (Fashion-MNIST, MNIST, CIFAR-10) and seeded toy data
- ``widgets.notebook``: seeding, device choice, showing library code in a lesson
- ``widgets.activations``: activation functions and their derivatives (NumPy)
- ``widgets.perceptron``: Rosenblatt's rule, the ``Perceptron`` model, ``PerceptronPlayground``
- ``widgets.backprop``: a scalar autodiff engine and the ``BackpropStepper``
- ``widgets.mlp_by_hand``: a matrix-form MLP with hand-written backprop and gradient checks
- ``widgets.numpy_nn``: the complete NumPy network of lesson 4 (layers, losses, optimizers)
- ``widgets.torch_training``: the standard PyTorch data, training and evaluation loops
- ``widgets.monitor``: ``TrainingMonitor``, live training curves for NumPy or PyTorch loops
- ``widgets.playground``: ``NetworkPlayground``, TensorFlow Playground over ``numpy_nn``
  (its model in ``playground_model``, data and features in ``playground_data``, picture
  in ``playground_picture``, "show me the code" in ``playground_code``)
- ``widgets.checkpoint``: atomic checkpoints and exact resume
- ``widgets.image_folder``: a ``Dataset`` over a folder of images, one sub-folder per class
- ``widgets.checks``: the exercises' automatic checks and hints
"""

__version__ = "0.1.0"
