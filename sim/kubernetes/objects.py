"""Builders for Kubernetes objects as the API server returns them (core/v1, apps/v1, batch/v1, metrics).

Each builder returns a plain dict in the wire shape, with every field the official client's
models require. Quantities are written as strings the way the server canonicalizes them.
"""
from __future__ import annotations

import hashlib
from typing import Any

EPOCH = "2026-11-20T08:00:00Z"

Obj = dict[str, Any]


def fake_uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def millicores(value: int) -> str:
    return f"{value // 1000}" if value % 1000 == 0 else f"{value}m"


def mebibytes(value: int) -> str:
    return f"{value // 1024}Gi" if value % 1024 == 0 else f"{value}Mi"


def meta(name: str, namespace: str | None = None, *, labels: dict[str, str] | None = None,
         owner: Obj | None = None, created: str = EPOCH, generation: int | None = None) -> Obj:
    data: Obj = {"name": name, "uid": fake_uid(namespace or "", name), "creationTimestamp": created}
    if namespace is not None:
        data["namespace"] = namespace
    if labels:
        data["labels"] = dict(labels)
    if owner is not None:
        data["ownerReferences"] = [owner]
    if generation is not None:
        data["generation"] = generation
    return data


def owner_ref(obj: Obj) -> Obj:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": meta(name, labels={"kubernetes.io/metadata.name": name}),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def condition(kind: str, state: str, reason: str = "", message: str = "", at: str = EPOCH) -> Obj:
    data: Obj = {"type": kind, "status": state, "lastTransitionTime": at}
    if reason:
        data["reason"] = reason
    if message:
        data["message"] = message
    return data


def node(name: str, *, roles: list[str], zone: str, region: str, ip: str, cpu_m: int, mem_mi: int,
         reserved_cpu_m: int, reserved_mem_mi: int, ready: str = "True", unschedulable: bool = False,
         taints: list[Obj] | None = None, kubelet: str = "v1.31.4", arch: str = "amd64") -> Obj:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch,
              "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": region,
              "node.kubernetes.io/instance-type": f"m6i.{cpu_m // 4000}xlarge"}
    labels.update({f"node-role.kubernetes.io/{role}": "" for role in roles})
    spec: Obj = {"podCIDR": "10.244.0.0/24", "providerID": f"aws:///{zone}/i-{fake_uid(name)[:17]}"}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    reasons = {"True": ("KubeletReady", "kubelet is posting ready status"),
               "False": ("KubeletNotReady", "container runtime network not ready: NetworkReady=false"),
               "Unknown": ("NodeStatusUnknown", "Kubelet stopped posting node status.")}
    pressure = [condition(kind, "Unknown" if ready == "Unknown" else "False", reason)
                for kind, reason in (("MemoryPressure", "KubeletHasSufficientMemory"),
                                     ("DiskPressure", "KubeletHasNoDiskPressure"),
                                     ("PIDPressure", "KubeletHasSufficientPID"))]
    for item in pressure:
        item["lastHeartbeatTime"] = EPOCH
    return {
        "apiVersion": "v1", "kind": "Node", "metadata": meta(name, labels=labels), "spec": spec,
        "status": {
            "capacity": {"cpu": millicores(cpu_m), "memory": f"{mem_mi * 1024}Ki", "pods": "110",
                         "ephemeral-storage": "104845292Ki", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": millicores(cpu_m - reserved_cpu_m),
                            "memory": f"{(mem_mi - reserved_mem_mi) * 1024}Ki", "pods": "110", "ephemeral-storage": "96625420948", "hugepages-2Mi": "0"},
            "conditions": pressure + [dict(condition("Ready", ready, *reasons[ready]), lastHeartbeatTime=EPOCH)],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": arch, "bootID": fake_uid(name, "boot"),
                         "containerRuntimeVersion": "containerd://1.7.24",
                         "kernelVersion": "6.1.119-129.201.amzn2023.x86_64", "kubeProxyVersion": kubelet,
                         "kubeletVersion": kubelet, "machineID": fake_uid(name, "machine").replace("-", ""),
                         "operatingSystem": "linux", "osImage": "Amazon Linux 2023.6.20241212",
                         "systemUUID": fake_uid(name, "system")},
        },
    }


def container(name: str, image: str, cpu_m: int, mem_mi: int) -> Obj:
    resources: Obj = {}
    if cpu_m or mem_mi:
        requests = {}
        if cpu_m:
            requests["cpu"] = millicores(cpu_m)
        if mem_mi:
            requests["memory"] = mebibytes(mem_mi)
        resources = {"requests": requests, "limits": {"memory": mebibytes(max(mem_mi * 2, 64))}}
    return {"name": name, "image": image, "resources": resources, "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}


def pod_template(labels: dict[str, str], containers: list[Obj], init: list[Obj] | None = None,
                 tolerations: list[Obj] | None = None, overhead: Obj | None = None) -> Obj:
    spec: Obj = {"containers": containers, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                 "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"}
    if init:
        spec["initContainers"] = init
    if tolerations:
        spec["tolerations"] = tolerations
    if overhead:
        spec["runtimeClassName"] = "kata"
        spec["overhead"] = overhead
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def running(started: str = EPOCH) -> Obj:
    return {"running": {"startedAt": started}}


def waiting(reason: str, message: str = "") -> Obj:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def terminated(reason: str, exit_code: int, started: str = EPOCH, finished: str = EPOCH) -> Obj:
    return {"terminated": {"reason": reason, "exitCode": exit_code, "startedAt": started, "finishedAt": finished}}


def container_status(spec: Obj, state: Obj, *, ready: bool, restarts: int = 0, last: Obj | None = None) -> Obj:
    started = "running" in state
    image_id = f"{spec['image'].split(':')[0]}@sha256:{hashlib.sha256(spec['image'].encode()).hexdigest()}"
    status: Obj = {"name": spec["name"], "image": spec["image"], "imageID": image_id if started else "",
                   "ready": ready, "restartCount": restarts, "started": started, "state": state,
                   "lastState": last or {}}
    if started or "terminated" in state:
        status["containerID"] = f"containerd://{hashlib.sha256(repr(spec).encode()).hexdigest()}"
    return status


def pod(name: str, ns: str, template: Obj, *, node: str | None, owner: Obj | None, phase: str,
        statuses: list[Obj], init_statuses: list[Obj] | None = None, ready: bool, ip: str | None = None,
        scheduled: tuple[str, str] = ("True", ""), reason: str | None = None, started: str = EPOCH) -> Obj:
    spec = dict(template["spec"])
    if node:
        spec["nodeName"] = node
    conditions = [condition("PodScheduled", scheduled[0], scheduled[1],
                            "0/20 nodes are available: 3 Insufficient cpu." if scheduled[1] else "")]
    if node:
        conditions += [condition("Initialized", "True" if phase != "Pending" or not init_statuses else "False"),
                       condition("ContainersReady", "True" if ready else "False"),
                       condition("Ready", "True" if ready else "False")]
    status: Obj = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
    if node:
        status.update(hostIP=ip and ip.rsplit(".", 1)[0] + ".1", startTime=started, containerStatuses=statuses)
        if ip:
            status["podIP"] = ip
            status["podIPs"] = [{"ip": ip}]
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
    if reason:
        status["reason"] = reason
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(name, ns, labels=template["metadata"]["labels"], owner=owner), "spec": spec,
            "status": status}


def event(name: str, ns: str, involved: Obj, reason: str, message: str, *, warning: bool,
          at: str, count: int = 1, component: str = "kubelet") -> Obj:
    ref = {"kind": involved["kind"], "namespace": involved["metadata"].get("namespace"),
           "name": involved["metadata"]["name"], "uid": involved["metadata"]["uid"],
           "apiVersion": involved["apiVersion"]}
    return {"apiVersion": "v1", "kind": "Event", "metadata": meta(name, ns, created=at), "involvedObject": ref,
            "reason": reason, "message": message, "source": {"component": component},
            "firstTimestamp": at, "lastTimestamp": at, "count": count,
            "type": "Warning" if warning else "Normal", "eventTime": None,
            "reportingComponent": component, "reportingInstance": ""}


def node_metrics(name: str, cpu_nano: int, mem_ki: int, at: str) -> Obj:
    return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics",
            "metadata": {"name": name, "creationTimestamp": at, "labels": {"kubernetes.io/hostname": name}},
            "timestamp": at, "window": "20.05s", "usage": {"cpu": f"{cpu_nano}n", "memory": f"{mem_ki}Ki"}}


def pod_metrics(pod_obj: Obj, cpu_nano: int, mem_ki: int, at: str) -> Obj:
    containers = [{"name": c["name"], "usage": {"cpu": f"{cpu_nano}n", "memory": f"{mem_ki}Ki"}}
                  for c in pod_obj["spec"]["containers"]]
    return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": pod_obj["metadata"]["name"], "namespace": pod_obj["metadata"]["namespace"],
                         "creationTimestamp": at, "labels": pod_obj["metadata"].get("labels", {})},
            "timestamp": at, "window": "18.3s", "containers": containers}
