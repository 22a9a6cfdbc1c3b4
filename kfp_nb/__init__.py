"""kfp_nb: Kubeflow Pipelines runs as first-class citizens of Jupyter notebooks."""
