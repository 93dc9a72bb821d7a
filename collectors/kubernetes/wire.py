"""The Kubernetes API objects as Podium reads them: msgspec Structs naming only the fields we use.

Decoding a 150,000-pod list into these takes a fraction of what the official client's models
need (they build every field of every object). Unknown fields are skipped by msgspec; missing
ones take the defaults below, which are the API's own defaults where it has one.
Quantities are `str | int | float`: the API always sends strings, recorded YAML sometimes numbers.
Lists and maps are `X | None`: recorded payloads (and some servers) write `null` for empty ones.
"""
from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

import msgspec

from collectors.toolkit import Wire, decoder_for

Quantity = str | int | float
T = TypeVar("T")


class Base(Wire, rename="camel", frozen=True):
    pass


class OwnerRef(Base):
    kind: str = ""
    name: str = ""
    controller: bool | None = None


class Meta(Base):
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] | None = None
    owner_references: list[OwnerRef] | None = None
    creation_timestamp: datetime | None = None
    resource_version: str = ""
    generation: int = 0


class PodMeta(Base):
    """Pod metadata without labels: pods are the big list, and we never read their labels."""

    name: str = ""
    namespace: str = ""
    owner_references: list[OwnerRef] | None = None
    resource_version: str = ""


class Amounts(Base):
    """CPU and memory of a resource map (requests, capacity, usage); other resources are skipped."""

    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(Base):
    requests: Amounts | None = None


class Container(Base):
    image: str = ""
    resources: Resources | None = None
    restart_policy: str | None = None  # "Always" on an init container: a native sidecar


class PodSpec(Base):
    node_name: str | None = None
    containers: list[Container] | None = None
    init_containers: list[Container] | None = None
    overhead: Amounts | None = None


class Waiting(Base):
    reason: str | None = None


class Terminated(Base):
    reason: str | None = None
    exit_code: int = 0


class Running(Base):
    """Present or not is all we need: its fields are skipped."""


class ContainerState(Base):
    waiting: Waiting | None = None
    running: Running | None = None
    terminated: Terminated | None = None


class ContainerStatus(Base):
    restart_count: int = 0
    state: ContainerState | None = None
    last_state: ContainerState | None = None


class Condition(Base):
    type: str = ""
    status: str = ""
    reason: str | None = None


class PodStatus(Base):
    phase: str | None = None
    reason: str | None = None
    conditions: list[Condition] | None = None
    container_statuses: list[ContainerStatus] | None = None
    init_container_statuses: list[ContainerStatus] | None = None
    start_time: datetime | None = None


class Pod(Base):
    metadata: PodMeta = PodMeta()
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()


class NodeSpec(Base):
    unschedulable: bool = False


class NodeAddress(Base):
    type: str = ""
    address: str = ""


class NodeInfo(Base):
    kubelet_version: str | None = None
    operating_system: str | None = None
    architecture: str | None = None


class NodeStatus(Base):
    capacity: Amounts | None = None
    allocatable: Amounts | None = None
    conditions: list[Condition] | None = None
    addresses: list[NodeAddress] | None = None
    node_info: NodeInfo | None = None


class Node(Base):
    metadata: Meta = Meta()
    spec: NodeSpec | None = None
    status: NodeStatus = NodeStatus()


class TemplateMeta(Base):
    labels: dict[str, str] | None = None  # what a Service selector is matched against


class Template(Base):
    metadata: TemplateMeta | None = None
    spec: PodSpec = PodSpec()


class DeploymentSpec(Base):
    replicas: int | None = None
    paused: bool = False
    template: Template = Template()


class DeploymentStatus(Base):
    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    available_replicas: int = 0
    conditions: list[Condition] | None = None


class Deployment(Base):
    metadata: Meta = Meta()
    spec: DeploymentSpec = DeploymentSpec()
    status: DeploymentStatus = DeploymentStatus()


class ReplicaSetSpec(Base):
    replicas: int | None = None
    template: Template = Template()


class ReplicaSetStatus(Base):
    ready_replicas: int = 0


class ReplicaSet(Base):
    metadata: Meta = Meta()
    spec: ReplicaSetSpec = ReplicaSetSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()


class ReplicaSetHeadSpec(Base):
    replicas: int | None = None
    template: msgspec.Raw = msgspec.Raw(b"null")


class ReplicaSetHead(Base):
    """A ReplicaSet with its pod template left undecoded: a Deployment's ReplicaSets (nearly all
    of them) never need it. See `workloads.slim_replicaset`."""

    metadata: Meta = Meta()
    spec: ReplicaSetHeadSpec = ReplicaSetHeadSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()


class StatefulSetStatus(Base):
    ready_replicas: int = 0
    updated_replicas: int = 0
    current_revision: str | None = None
    update_revision: str | None = None


class StatefulSet(Base):
    metadata: Meta = Meta()
    spec: ReplicaSetSpec = ReplicaSetSpec()
    status: StatefulSetStatus = StatefulSetStatus()


class DaemonSetSpec(Base):
    template: Template = Template()


class DaemonSetStatus(Base):
    desired_number_scheduled: int = 0
    number_ready: int = 0
    updated_number_scheduled: int = 0  # omitted when 0 (omitempty)


class DaemonSet(Base):
    metadata: Meta = Meta()
    spec: DaemonSetSpec = DaemonSetSpec()
    status: DaemonSetStatus = DaemonSetStatus()


class JobSpec(Base):
    completions: int | None = None
    suspend: bool | None = None
    template: Template = Template()


class JobStatus(Base):
    conditions: list[Condition] | None = None


class Job(Base):
    metadata: Meta = Meta()
    spec: JobSpec = JobSpec()
    status: JobStatus = JobStatus()


class JobTemplate(Base):
    spec: JobSpec = JobSpec()


class CronJobSpec(Base):
    suspend: bool | None = None
    job_template: JobTemplate = JobTemplate()


class CronJob(Base):
    metadata: Meta = Meta()
    spec: CronJobSpec = CronJobSpec()


class ObjectRef(Base):
    kind: str = ""
    namespace: str | None = None
    name: str = ""


class Event(Base):
    metadata: Meta = Meta()
    involved_object: ObjectRef = ObjectRef()
    reason: str | None = None
    message: str | None = None
    type: str | None = None
    last_timestamp: datetime | None = None
    event_time: datetime | None = None
    first_timestamp: datetime | None = None


class NodeMetrics(Base):
    metadata: Meta = Meta()
    usage: Amounts | None = None


class ListMeta(Base):
    resource_version: str = ""
    continue_: str | None = msgspec.field(default=None, name="continue")
    remaining_item_count: int | None = None


class ObjectList(Base, Generic[T]):
    metadata: ListMeta = ListMeta()
    # every list the API server sends has `items` (null when empty); absent means it is not a list
    items: list[T] | None | msgspec.UnsetType = msgspec.UNSET


class ListHead(Base):
    """Only the list metadata (continue token), read before the items are decoded."""

    metadata: ListMeta = ListMeta()


class Status(Base):
    """The error body the API server sends with 4xx/5xx answers and in watch ERROR events."""

    message: str = ""
    reason: str = ""
    code: int = 0


class Version(Base):
    git_version: str | None = None


class WatchEvent(Base):
    type: str = ""
    object: msgspec.Raw = msgspec.Raw(b"null")


class ObjectHead(Base):
    """Just the metadata of a watched object (BOOKMARK events carry only a resourceVersion)."""

    metadata: Meta = Meta()


def list_decoder(item_type: type[T]) -> msgspec.json.Decoder:
    """A cached decoder for `{Kind}List` JSON of `item_type`."""
    return decoder_for(ObjectList[item_type])  # type: ignore[valid-type]



# JSON without `items`: something other than a Kubernetes API server answered at this URL
NOT_A_LIST = "unexpected shape: not a list (no items); is this URL a Kubernetes API server?"
