// A real client-go peer: writes built-in kinds the way controller-runtime's typed clients do
// (protobuf request bodies), then reads them back as JSON and prints them, so the Ferrite test
// suite can compare what Go sent with what the server stored.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "client-go peer:", err)
		os.Exit(1)
	}
}

func main() {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Args[1])
	must(err)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	must(err)
	ctx := context.Background()
	ns := "default"
	now := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	micro := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC))
	labels := map[string]string{"app": "peer"}
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: "0b9e8c7d-1111-2222-3333-444455556666", Controller: ptr(true)}}

	out := map[string]any{}
	cm, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-cm", Labels: labels, Annotations: map[string]string{"a": "b"}, Finalizers: []string{"x/y"}, OwnerReferences: owner},
		Data:       map[string]string{"k": "v"}, BinaryData: map[string][]byte{"bin": {0, 1, 2}},
	}, metav1.CreateOptions{FieldManager: "peer"})
	must(err)
	out["configmap"] = cm
	sec, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-secret"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("s3cret")},
	}, metav1.CreateOptions{})
	must(err)
	out["secret"] = sec
	lease, err := cs.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-lease"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr("peer-1"), LeaseDurationSeconds: ptr(int32(15)), AcquireTime: &micro, RenewTime: &micro, LeaseTransitions: ptr(int32(2))},
	}, metav1.CreateOptions{})
	must(err)
	// leader election renews with PUT: an update in protobuf too
	lease.Spec.LeaseTransitions = ptr(int32(3))
	lease, err = cs.CoordinationV1().Leases(ns).Update(ctx, lease, metav1.UpdateOptions{})
	must(err)
	out["lease"] = lease
	ev, err := cs.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "peer-cm.1"},
		InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Name: "peer-cm", Namespace: ns, UID: cm.UID},
		Reason:         "Peered", Message: "written by client-go", Type: corev1.EventTypeNormal,
		Source: corev1.EventSource{Component: "peer"}, FirstTimestamp: now, LastTimestamp: now, Count: 2,
		ReportingController: "peer", ReportingInstance: "peer-1",
	}, metav1.CreateOptions{})
	must(err)
	out["event"] = ev
	ev2, err := cs.EventsV1().Events(ns).Create(ctx, &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-cm.2"}, EventTime: micro, ReportingController: "peer", ReportingInstance: "peer-1",
		Action: "Peer", Reason: "PeeredAgain", Regarding: corev1.ObjectReference{Kind: "ConfigMap", Name: "peer-cm", Namespace: ns}, Note: "events.k8s.io", Type: "Normal",
	}, metav1.CreateOptions{})
	must(err)
	out["eventsv1"] = ev2
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-sa"}, AutomountServiceAccountToken: ptr(false),
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "pull"}},
	}, metav1.CreateOptions{})
	must(err)
	out["serviceaccount"] = sa
	nsObj, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "peer-ns", Labels: labels}}, metav1.CreateOptions{})
	must(err)
	out["namespace"] = nsObj
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "peer-node", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
		Spec: corev1.NodeSpec{ProviderID: "metal3://default/host-0/m3m-0", PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24"},
			Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}},
	}, metav1.CreateOptions{})
	must(err)
	// kubelets write status through the subresource, also in protobuf
	node.Status = corev1.NodeStatus{
		Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}},
		Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.111.20"}, {Type: corev1.NodeHostName, Address: "host-0"}},
		NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.32.0", OSImage: "Ferrite", Architecture: "amd64", OperatingSystem: "linux", MachineID: "m", SystemUUID: "u", BootID: "b", KernelVersion: "6.1", ContainerRuntimeVersion: "containerd://1.7"},
	}
	node, err = cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	must(err)
	out["node"] = node
	// deletes carry DeleteOptions in protobuf
	must(cs.CoreV1().Secrets(ns).Delete(ctx, "peer-secret", metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationForeground)}))
	b, err := json.Marshal(out)
	must(err)
	fmt.Println(string(b))
}

func ptr[T any](v T) *T { return &v }
