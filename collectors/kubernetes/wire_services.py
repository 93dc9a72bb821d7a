"""Services, EndpointSlices, v1 Endpoints and HorizontalPodAutoscalers as Podium reads them.

Like `wire`, only the fields normalize uses; the rest is skipped by msgspec. Shapes follow
core/v1 Service and Endpoints, discovery.k8s.io/v1 EndpointSlice, autoscaling/v2 and
autoscaling/v1 HorizontalPodAutoscaler.
"""
from __future__ import annotations

import msgspec

from collectors.kubernetes.wire import Base, Meta, Quantity


class ServicePort(Base):
    port: int = 0
    protocol: str = "TCP"
    target_port: int | str | None = None  # omitted: the same as port
    node_port: int | None = None


class ServiceSpec(Base):
    type: str = "ClusterIP"
    cluster_ip: str | None = msgspec.field(default=None, name="clusterIP")  # "None": headless
    cluster_ips: list[str] | None = msgspec.field(default=None, name="clusterIPs")
    external_ips: list[str] | None = msgspec.field(default=None, name="externalIPs")
    external_name: str | None = None
    selector: dict[str, str] | None = None
    ports: list[ServicePort] | None = None


class LoadBalancerIngress(Base):
    ip: str | None = None
    hostname: str | None = None


class LoadBalancerStatus(Base):
    ingress: list[LoadBalancerIngress] | None = None


class ServiceStatus(Base):
    load_balancer: LoadBalancerStatus | None = None


class Service(Base):
    metadata: Meta = Meta()
    spec: ServiceSpec = ServiceSpec()
    status: ServiceStatus = ServiceStatus()


class TargetRef(Base):
    kind: str = ""
    namespace: str | None = None
    name: str = ""


class EndpointConditions(Base):
    ready: bool | None = None  # nil: unknown, read as ready (the API's advice)
    serving: bool | None = None
    terminating: bool | None = None


class SliceEndpoint(Base):
    addresses: list[str] | None = None
    conditions: EndpointConditions = EndpointConditions()
    target_ref: TargetRef | None = None


class EndpointSlice(Base):
    metadata: Meta = Meta()
    address_type: str = ""
    endpoints: list[SliceEndpoint] | None = None


class EndpointAddress(Base):
    ip: str = ""
    hostname: str | None = None
    target_ref: TargetRef | None = None


class EndpointSubset(Base):
    addresses: list[EndpointAddress] | None = None
    not_ready_addresses: list[EndpointAddress] | None = None


class Endpoints(Base):
    metadata: Meta = Meta()
    subsets: list[EndpointSubset] | None = None


# -- HorizontalPodAutoscaler -------------------------------------------------------------------------
class ScaleTarget(Base):
    kind: str = ""
    name: str = ""


class MetricIdentifier(Base):
    name: str = ""


class MetricTarget(Base):
    type: str = ""
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: int | None = None


class MetricValue(Base):
    value: Quantity | None = None
    average_value: Quantity | None = None
    average_utilization: int | None = None


class ResourceMetric(Base):
    name: str = ""
    container: str | None = None  # ContainerResource only
    target: MetricTarget | None = None
    current: MetricValue | None = None


class NamedMetric(Base):
    """Pods, Object and External metrics: a metric name, and a target (spec) or current (status)."""

    metric: MetricIdentifier = MetricIdentifier()
    described_object: ScaleTarget | None = None  # Object only
    target: MetricTarget | None = None
    current: MetricValue | None = None


class Metric(Base):
    type: str = ""
    resource: ResourceMetric | None = None
    container_resource: ResourceMetric | None = None
    pods: NamedMetric | None = None
    object: NamedMetric | None = None
    external: NamedMetric | None = None


class HpaCondition(Base):
    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None


class HpaSpec(Base):
    """autoscaling/v2, plus the one target field autoscaling/v1 has instead of `metrics`."""

    scale_target_ref: ScaleTarget = ScaleTarget()
    min_replicas: int | None = None  # omitted: 1
    max_replicas: int = 0
    metrics: list[Metric] | None = None
    target_cpu_utilization_percentage: int | None = msgspec.field(default=None, name="targetCPUUtilizationPercentage")


class HpaStatus(Base):
    current_replicas: int | None = None
    desired_replicas: int | None = None
    current_metrics: list[Metric] | None = None
    conditions: list[HpaCondition] | None = None
    current_cpu_utilization_percentage: int | None = msgspec.field(default=None,
                                                                  name="currentCPUUtilizationPercentage")


class HpaMeta(Meta):
    annotations: dict[str, str] | None = None  # autoscaling/v1 carries the v2 status here, as JSON text


class HorizontalPodAutoscaler(Base):
    metadata: HpaMeta = HpaMeta()
    spec: HpaSpec = HpaSpec()
    status: HpaStatus = HpaStatus()
