// The upstream anchor of bench/reconcile.ts: the k8s.io/cloud-provider service controller
// (controllers/service, the code every cloud-controller-manager runs) over a fake cloud whose
// EnsureLoadBalancer returns an address at once, as our bare-metal provider's controller side does in the
// bench. Built by scripts/install-upstream-service-controller.sh into a cache outside the repository; never
// committed as a binary.
//
// What it runs is the upstream controller unchanged: servicecontroller.New + Run with a shared informer
// factory, an event broadcaster to the apiserver (Run starts it, source component "service-controller"), the
// finalizer and status patches. It handles class-less LoadBalancer Services only (wantsLoadBalancer), so the
// bench creates class-less Services for it.
//
// The cloud is k8s.io/cloud-provider/fake's Cloud with its LoadBalancer replaced by addressingBalancer: the fake's
// own EnsureLoadBalancer writes its Balancers map without a lock (a fatal concurrent map write with more than
// one worker), appends every call with its *v1.Service and nodes to EnsureCalls forever (memory the controller
// itself would not hold), and gives every Service the same ExternalIP. addressingBalancer gives each Service its
// own address from a pool, like the baremetal provider and bench/baseline-patcher.ts, and keeps one map entry per
// live load balancer.
//
// Client settings: --kube-api-qps defaults to -1 (no client-side rate limit), because our controller and the
// bench's patcher have none; cloud-controller-manager's default of 20 QPS / 30 burst would make this column
// measure the rate limiter. The content type is protobuf, cloud-controller-manager's default
// (--kube-api-content-type). Workers default to 5 as in cloud-provider-kind (upstream's ConcurrentServiceSyncs
// default is 1).
//
// Prints "ready" on stdout once its Service and Node caches are synced.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	cloudprovider "k8s.io/cloud-provider"
	servicecontroller "k8s.io/cloud-provider/controllers/service"
	"k8s.io/cloud-provider/fake"
	"k8s.io/component-base/featuregate"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"
)

// addressingBalancer is the fake cloud's load balancer: EnsureLoadBalancer returns at once with an address of
// its own for each Service (stable across ensures), safe for concurrent workers.
type addressingBalancer struct {
	*fake.Cloud
	mu   sync.Mutex
	pool netip.Prefix
	next uint32
	live map[string]netip.Addr
}

func (b *addressingBalancer) address(name string) (netip.Addr, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ip, ok := b.live[name]; ok {
		return ip, nil
	}
	base := b.pool.Masked().Addr().As4()
	b.next++
	if b.next >= 1<<(32-b.pool.Bits()) {
		return netip.Addr{}, fmt.Errorf("address pool %s exhausted", b.pool)
	}
	var ip [4]byte
	binary.BigEndian.PutUint32(ip[:], binary.BigEndian.Uint32(base[:])+b.next)
	b.live[name] = netip.AddrFrom4(ip)
	return b.live[name], nil
}

func (b *addressingBalancer) GetLoadBalancer(ctx context.Context, clusterName string, svc *v1.Service) (*v1.LoadBalancerStatus, bool, error) {
	name := b.GetLoadBalancerName(ctx, clusterName, svc)
	b.mu.Lock()
	ip, ok := b.live[name]
	b.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	return &v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: ip.String()}}}, true, nil
}

func (b *addressingBalancer) EnsureLoadBalancer(ctx context.Context, clusterName string, svc *v1.Service, _ []*v1.Node) (*v1.LoadBalancerStatus, error) {
	ip, err := b.address(b.GetLoadBalancerName(ctx, clusterName, svc))
	if err != nil {
		return nil, err
	}
	// The shape our controller and the bench's patcher write: ip, ipMode and ports.
	vip := v1.LoadBalancerIPModeVIP
	ports := make([]v1.PortStatus, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		ports = append(ports, v1.PortStatus{Port: p.Port, Protocol: p.Protocol})
	}
	return &v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: ip.String(), IPMode: &vip, Ports: ports}}}, nil
}

func (b *addressingBalancer) UpdateLoadBalancer(context.Context, string, *v1.Service, []*v1.Node) error {
	return nil
}

func (b *addressingBalancer) EnsureLoadBalancerDeleted(ctx context.Context, clusterName string, svc *v1.Service) error {
	name := b.GetLoadBalancerName(ctx, clusterName, svc)
	b.mu.Lock()
	delete(b.live, name)
	b.mu.Unlock()
	return nil
}

// benchCloud is fake.Cloud with addressingBalancer as its LoadBalancer.
type benchCloud struct {
	*fake.Cloud
	balancer *addressingBalancer
}

func (c *benchCloud) LoadBalancer() (cloudprovider.LoadBalancer, bool) { return c.balancer, true }

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	workers := flag.Int("workers", 5, "concurrent Service syncs (upstream ConcurrentServiceSyncs; cloud-provider-kind uses 5)")
	qps := flag.Float64("kube-api-qps", -1, "client QPS; negative: no client-side rate limit")
	burst := flag.Int("kube-api-burst", 30, "client burst when --kube-api-qps > 0")
	contentType := flag.String("kube-api-content-type", "application/vnd.kubernetes.protobuf", "request content type")
	pool := flag.String("address-pool", "198.18.0.0/15", "IPv4 prefix the fake cloud hands addresses out of")
	clusterName := flag.String("cluster-name", "kubernetes", "cluster name passed to the cloud")
	flag.Parse()
	if *kubeconfig == "" || *workers < 1 {
		fmt.Fprintln(os.Stderr, "usage: upstream-service-controller --kubeconfig PATH [--workers N] [--kube-api-qps Q]")
		os.Exit(2)
	}
	prefix, err := netip.ParsePrefix(*pool)
	if err != nil || !prefix.Addr().Is4() {
		fmt.Fprintf(os.Stderr, "--address-pool: want an IPv4 prefix, got %q\n", *pool)
		os.Exit(2)
	}

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig: %v\n", err)
		os.Exit(1)
	}
	config.QPS = float32(*qps)
	config.Burst = *burst
	config.ContentType = *contentType
	config.AcceptContentTypes = *contentType + ",application/json"
	config.UserAgent = "upstream-service-controller"
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fakeCloud := &fake.Cloud{ExternalIP: net.IPv4zero}
	cloud := &benchCloud{Cloud: fakeCloud, balancer: &addressingBalancer{Cloud: fakeCloud, pool: prefix, live: map[string]netip.Addr{}}}
	// cloud-controller-manager's informer resync is 12-24 h (--min-resync-period); the controller's own 30 s
	// Service resync (old == new) never enqueues.
	factory := informers.NewSharedInformerFactory(client, 12*time.Hour)
	controller, err := servicecontroller.New(cloud, client, factory.Core().V1().Services(), factory.Core().V1().Nodes(),
		*clusterName, featuregate.NewFeatureGate())
	if err != nil {
		fmt.Fprintf(os.Stderr, "service controller: %v\n", err)
		os.Exit(1)
	}
	factory.Start(ctx.Done())
	for informer, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			fmt.Fprintf(os.Stderr, "cache of %v did not sync\n", informer)
			os.Exit(1)
		}
	}
	go controller.Run(ctx, *workers, controllersmetrics.NewControllerManagerMetrics("upstream-service-controller"))
	fmt.Println("ready")
	<-ctx.Done()
	factory.Shutdown()
}
