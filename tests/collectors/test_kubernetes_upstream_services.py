"""Services, EndpointSlices, v1 Endpoints and HPAs recorded upstream, normalized with exact values."""
from __future__ import annotations

from collectors.kubernetes import wire as w
from collectors.kubernetes import wire_services as ws
from collectors.kubernetes.autoscalers import autoscalers_by_workload, normalize_autoscaler
from collectors.kubernetes.services import backends_from_endpoints, backends_from_slices
from tests.collectors.test_kubernetes_upstream import convert, items, normalized
from tests.upstream import upstream_json


def of_kind(name: str, kind: str, item_type: type) -> list:
    """The items of one kind from a mixed `kubectl get a,b,c -o yaml` List."""
    return [convert(item, item_type) for item in upstream_json(f"kubernetes/{name}")["items"] if item["kind"] == kind]


def services_of(**lists: list) -> dict:
    return {s.id: s for s in normalized(**lists).services}


def ports(service) -> list:
    return [(p.port, p.protocol, p.target, p.published) for p in service.ports]


# -- Services -------------------------------------------------------------------------------------
MINIKUBE = "servicelist-minikube-k8s1.35-nri-kubernetes.json"


def test_minikube_services_read_kind_addresses_and_ports():
    services = services_of(services=items(MINIKUBE, ws.Service))
    assert len(services) == 7
    dns = services["Service/kube-system/kube-dns"]
    assert (dns.kind, dns.addresses) == ("ClusterIP", ["10.96.0.10"])
    assert ports(dns) == [(53, "udp", "53", None), (53, "tcp", "53", None), (9153, "tcp", "9153", None)]
    assert ports(services["Service/kube-system/metrics-server"]) == [(443, "tcp", "https", None)]


def test_pending_load_balancer_has_only_its_cluster_ip_and_a_node_port():
    lb = services_of(services=items(MINIKUBE, ws.Service))["Service/scraper/e2e-lb"]
    assert (lb.kind, lb.addresses, ports(lb)) == ("LoadBalancer", ["10.107.149.101"], [(80, "tcp", "80", 32645)])


def test_services_without_endpoints_read_are_down_when_they_select_and_unknown_when_not():
    services = services_of(services=items(MINIKUBE, ws.Service))
    assert services["Service/scraper/e2e-hpa"].status == "down"  # selects pods, none known
    assert services["Service/default/kubernetes"].status == "unknown"  # no selector, no endpoints
    assert services["Service/scraper/e2e-lb"].status == "unknown"  # no selector either


def test_load_balancer_ingress_hostname_is_an_address():
    service, = services_of(services=items("service-item-loadbalancer-ingress-hostname-gitops-engine.json",
                                          ws.Service)).values()
    assert service.addresses == ["100.69.46.185", "abc123.us-west-2.elb.amazonaws.com"]
    assert ports(service) == [(80, "tcp", "8080", 30354), (443, "tcp", "8080", 31866)]


def test_headless_service_is_dialled_by_name():
    service, = services_of(services=items("service-item-headless-kubectl-neat.json", ws.Service)).values()
    assert (service.kind, service.addresses) == ("Headless", ["myappservice.default.svc"])


def test_synthetic_service_types_and_a_typeless_one_as_cluster_ip():
    services = services_of(services=items("servicelist-synthetic-popeye.json", ws.Service))
    assert {s.name: s.kind for s in services.values()} == {
        "svc1": "NodePort", "svc2": "ClusterIP", "svc3": "ExternalName", "svc4": "LoadBalancer", "svc5": "ClusterIP"}
    external = services["Service/default/svc3"]
    assert (external.addresses, external.status, external.backends_total) == ([], "unknown", 0)  # no externalName


# -- backends -------------------------------------------------------------------------------------
NODEPORT = "list-nodeport-services-endpoints-endpointslices-kind-k8s1.26-cilium.json"
DUALSTACK = "list-dualstack-services-endpointslices-ipv6-kind-k8s1.26-cilium.json"


def test_node_port_services_are_backed_by_their_pod_and_its_workload():
    services = services_of(services=of_kind(NODEPORT, "Service", ws.Service),
                           endpoint_slices=of_kind(NODEPORT, "EndpointSlice", ws.EndpointSlice),
                           pods=of_kind(NODEPORT, "Pod", w.Pod))
    echo = services["Service/test/echo"]
    assert (echo.kind, echo.backends_total, echo.backends_ready, echo.status) == ("NodePort", 1, 1, "ok")
    assert ports(echo) == [(80, "tcp", "80", 30781)]
    # the pod's ReplicaSet is not in the recording: the pod stands alone, and backs both services
    assert echo.workload_ids == services["Service/test/echo-local"].workload_ids == ["Pod/test/echo-757d4cb97f-9gmf7"]


def test_v1_endpoints_give_the_same_backends_as_the_slices():
    slices = backends_from_slices(of_kind(NODEPORT, "EndpointSlice", ws.EndpointSlice))
    endpoints = backends_from_endpoints(of_kind(NODEPORT, "Endpoints", ws.Endpoints))
    assert {k: b.counts() for k, b in slices.items()} == \
        {k: b.counts() for k, b in endpoints.items()} == {"test/echo": (1, 1), "test/echo-local": (1, 1)}


def test_dual_stack_pods_in_two_slices_are_one_backend_each():
    services = services_of(services=of_kind(DUALSTACK, "Service", ws.Service),
                           endpoint_slices=of_kind(DUALSTACK, "EndpointSlice", ws.EndpointSlice))
    echo = services["Service/default/echo-dualstack"]
    assert (echo.backends_total, echo.backends_ready, echo.status) == (2, 2, "ok")
    assert echo.addresses == ["10.96.164.78", "fd00:10:96::5a5c"]
    assert [(p.port, p.protocol) for p in echo.ports] == [(80, "tcp"), (69, "udp")]


def test_selectorless_kubernetes_service_counts_its_addresses():
    services = services_of(services=of_kind(DUALSTACK, "Service", ws.Service),
                           endpoint_slices=of_kind(DUALSTACK, "EndpointSlice", ws.EndpointSlice))
    api = services["Service/default/kubernetes"]
    assert (api.backends_total, api.backends_ready, api.status, api.workload_ids) == (1, 1, "ok", [])


def test_only_backend_terminating_leaves_the_service_down():
    name = "list-service-endpointslice-terminating-kind-cilium.json"
    service, = services_of(services=of_kind(name, "Service", ws.Service),
                           endpoint_slices=of_kind(name, "EndpointSlice", ws.EndpointSlice)).values()
    assert (service.backends_total, service.backends_ready, service.status) == (0, 0, "down")


def test_terminating_endpoint_is_not_counted_beside_a_ready_one():
    endpoints = upstream_json("kubernetes/endpointslice-endpoints-fragment-terminating-gke-k8s-docs.json")
    slice_ = convert({"metadata": {"namespace": "default", "labels": {"kubernetes.io/service-name": "nginx"}},
                      "addressType": "IPv4", "endpoints": endpoints}, ws.EndpointSlice)
    backends = backends_from_slices([slice_])["default/nginx"]
    assert backends.counts() == (1, 1)


def test_v1beta1_shaped_slices_still_count_with_and_without_target():
    backends = backends_from_slices(items("endpointslicelist-kind-victoriametrics.json", ws.EndpointSlice))
    assert {k: b.counts() for k, b in backends.items()} == {
        "default/kubernetes": (1, 1), "kube-system/kube-dns": (1, 1)}


def test_v1_endpoints_not_ready_addresses_and_empty_subsets():
    backends = backends_from_endpoints(items("endpointslist-notready-minikube-k8s1.26-nri-kubernetes.json",
                                             ws.Endpoints))
    counts = {k: b.counts() for k, b in backends.items()}
    assert counts["kube-system/metrics-server"] == (1, 0)
    assert counts["kube-system/k8s.io-minikube-hostpath"] == (0, 0)
    assert counts["scraper/e2e-statefulset"] == (2, 2)


# -- HorizontalPodAutoscalers ---------------------------------------------------------------------
def test_v2_hpa_at_its_maximum_but_not_limited():
    hpa, = items("hpa-item-v2beta2-at-maxreplicas-gitops-engine.json", ws.HorizontalPodAutoscaler)
    scaler = normalize_autoscaler(hpa)
    assert (scaler.kind, scaler.min, scaler.max, scaler.current, scaler.desired) == \
        ("HorizontalPodAutoscaler", 1, 1, 1, 1)
    assert (scaler.metrics, scaler.limited, scaler.message) == (["cpu 27% / 65%"], False, None)


def test_hpa_unable_to_scale_says_why():
    hpa, = items("hpa-item-v2-abletoscale-false-hybrid-gitops-engine.json", ws.HorizontalPodAutoscaler)
    scaler = normalize_autoscaler(hpa)
    assert scaler.limited is False
    assert scaler.message == ("the HPA controller was unable to get the target's current scale: "
                              'deployments/scale.apps "sandbox-test-app-8" not found')
    assert (scaler.min, scaler.max) == (1, 2)
    assert scaler.metrics[0].endswith(" / 80%")


def test_v1_hpa_reads_its_conditions_from_the_annotation():
    hpa, = items("hpa-item-v1-scalinglimited-toofew-gitops-engine.json", ws.HorizontalPodAutoscaler)
    scaler = normalize_autoscaler(hpa)
    assert (scaler.min, scaler.max, scaler.current, scaler.desired) == (2, 10, 2, 2)
    assert (scaler.metrics, scaler.limited) == (["cpu 1% / 80%"], True)
    assert scaler.message == "the desired replica count is less than the minimum replica count"


def test_hpa_list_lands_on_each_target_workload():
    scalers = autoscalers_by_workload(items("horizontalpodautoscalerlist-v2-synthetic-popeye.json",
                                            ws.HorizontalPodAutoscaler))
    assert sorted(scalers) == ["Deployment/default/dp-toast", "Deployment/default/dp1", "ReplicaSet/default/rs-toast",
                               "ReplicaSet/default/rs1", "StatefulSet/default/sts-toast", "StatefulSet/default/sts1"]
    assert scalers["Deployment/default/dp1"].metrics == ["cpu 0% / 50%"]
    assert not any(s.limited or s.message for s in scalers.values())  # no conditions recorded
