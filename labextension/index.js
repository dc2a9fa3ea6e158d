// Why this extension exists: jupyterlab-rise 0.43's slideshow page (/rise/<notebook>) is
// its own small JupyterLab app, built without @jupyterlab/console. The ipywidgets widget
// manager (jupyterlab_widgets 3) imports that package from JupyterLab's shared modules,
// so on the slideshow page it fails to load ("Shared module @jupyterlab/console doesn't
// exist in shared scope default"), no comm target is registered, and a widget cell shows
// only its text or picture (jupyterlab-contrib/rise#126).
//
// This extension bundles @jupyterlab/console at the version the slideshow page's
// JupyterLab packages have (4.3.4) and offers it as a shared singleton. JupyterLab adds
// every extension's shared modules before any plugin loads, so the widget manager finds
// it there. In JupyterLab itself the core's own, newer @jupyterlab/console wins (a
// singleton takes the highest version offered): pyproject.toml requires a JupyterLab at
// least as new as the one bundled here, and tests/test_labextension.py checks both
// versions.
require('@jupyterlab/console');

// JupyterLab loads an extension through its plugins; this one has nothing to do when it
// activates, its work is done when JupyterLab gathers the shared modules.
module.exports = {
  id: '@nn-course/rise-widgets:shared-console',
  description: 'Provides @jupyterlab/console to the RISE slideshow page, for ipywidgets.',
  autoStart: true,
  activate: () => undefined
};
