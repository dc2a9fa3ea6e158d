"""The course's small package: interactive widgets, data helpers and exercise checks.

Lessons import from here, so each piece of code has exactly one home. The map of the
modules (which is a model, which a view, who imports whom) and where a change belongs
is in the repository's CONTRIBUTING.md. In short:

- ``widgets.data`` (+ ``dataset_files``): datasets on disk (Fashion-MNIST, MNIST, CIFAR-10),
  offline-first, every file validated
- ``widgets.toy_data``: seeded toy data (gates, blobs, moons, circles, spirals, XOR, regression)
- ``widgets.notebook``: seeding, device choice, thread limits, showing library code
- ``widgets.activations``, ``widgets.gradcheck``, ``widgets.decision_regions``: shared numerics
- ``widgets.perceptron`` (+ ``perceptron_plot``, ``perceptron_widget``): lesson 1
- ``widgets.autodiff`` (+ ``backprop_tape``, ``backprop_network``, ``backprop_draw``,
  ``backprop``): the scalar autodiff engine and the ``BackpropStepper``
- ``widgets.mlp_by_hand``: a matrix-form MLP with hand-written backprop (lessons 2-3)
- ``widgets.numpy_nn`` (+ ``numpy_layers``, ``numpy_training``): lesson 4's NumPy network
- ``widgets.torch_training``, ``widgets.fitting``: PyTorch loops; one fit contract for both
- ``widgets.training_history``, ``widgets.monitor_figure``, ``widgets.monitor``: the
  ``TrainingMonitor``
- ``widgets.display``: PNG pictures and display bundles for every widget
- ``widgets.playground`` (+ ``playground_model``, ``playground_data``,
  ``playground_picture``, ``playground_code``): ``NetworkPlayground``, a TensorFlow
  Playground over ``numpy_nn``, with "show me the code"
- ``widgets.checkpoint``, ``widgets.image_folder``: lesson 6
- ``widgets.claims``: lessons assert the numbers their prose quotes
- ``widgets.checks``: the exercises' automatic checks and hints
"""

__version__ = "0.1.0"
