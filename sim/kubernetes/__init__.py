"""An emulated kube-apiserver: discovery, core/apps/batch/metrics lists with paging, selectors,
watch streams and bearer-token auth, serving generated scenarios that state their own truth.

    from sim.kubernetes import Knobs, generate, start
    with start(generate(Knobs(seed=1, nodes=50)), token="t0ken") as cluster:
        ...  # cluster.url, cluster.kubeconfig(path), cluster.scenario.expected
"""
from sim.kubernetes.demo import demo
from sim.kubernetes.scenario import Knobs, Scenario, generate
from sim.kubernetes.server import KubeCluster, load_payload, start

__all__ = ["Knobs", "KubeCluster", "Scenario", "demo", "generate", "load_payload", "start"]
