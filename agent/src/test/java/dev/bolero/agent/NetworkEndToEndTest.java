package dev.bolero.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bolero.api.ApiJson;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.oci.testing.ImageSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Issue 5 with real microVMs, taps, bridges and nftables on the host: two namespaces of two machines each, an uplink
 * network namespace standing for the internet, a web server on the host standing for its other services. What happens
 * inside a guest is proven from inside it: the image's own web server (its default entrypoint) has a CGI script that
 * runs a shell command, reached over the machine's published port.
 */
class NetworkEndToEndTest {
    /** A CGI "exec": runs the POSTed body with sh and prints its output and exit status. */
    private static final String RUN_CGI = """
            echo "Content-Type: text/plain"
            echo
            sh -c "$(head -c "$CONTENT_LENGTH")" 2>&1
            echo "exit=$?"
            """;

    /** The registry holding the web image, and an agent without networking (the one that must refuse to publish). */
    @RegisterExtension
    static final AgentFixture env = AgentFixture.withImage("net/web:1",
            ImageSpec.cmd("httpd", "-f", "-p", "8080", "-h", "/www")
                    .withFile("/www/index.html", "hello from the image\n")
                    .withFile("/etc/httpd.conf", "*.sh:/bin/sh\n")
                    .withFile("/www/cgi-bin/run.sh", RUN_CGI));

    /** The data directories of the agents with networking. */
    @TempDir
    static Path dataDir;

    @RegisterExtension
    static final HostNetworkFixture net = HostNetworkFixture.perClass();

    /** A machine under test: its id, address and published port (8080 inside). */
    private record Vm(String id, String name, String ip, int port) {}

    private static Vm create(AgentHarness node, String name, String namespace, boolean egress) throws Exception {
        int port = HostNetworkFixture.freePort();
        String id = node.create("""
                {"name": "%s", "namespace": "%s", "start": true, "config": {"image": "%s", "network": {"egress": %s},
                 "services": [{"protocol": "tcp", "internal_port": 8080, "port": %d}]}}
                """.formatted(name, namespace, env.image(), egress, port));
        return new Vm(id, name, node.get("/api/v1/machines/" + id).json().path("ip").asString(), port);
    }

    /**
     * Runs {@code command} inside the machine; its output followed by {@code exit=N}. (Busybox 1.35's {@code wget -T}
     * crashes on CGI responses: time-outs use {@code timeout N wget}.)
     */
    private static String exec(Vm vm, String command) throws Exception {
        var r = HostCommands.run("curl", "-sS", "--max-time", "60", "--data-binary", command,
                "http://" + net.publishAddress + ":" + vm.port() + "/cgi-bin/run.sh");
        assertThat(r.exit()).as("exec in %s: %s", vm.name(), r.out()).isZero();
        return r.out();
    }

    private static boolean succeeds(Vm vm, String command) throws Exception {
        return exec(vm, command).endsWith("exit=0\n");
    }

    private static String gateway(Vm vm) {
        return vm.ip().substring(0, vm.ip().lastIndexOf('.')) + ".1";
    }

    @Test
    void machines_reach_the_uplink_and_their_namespace_are_walled_off_from_others_and_leave_nothing_behind()
            throws Exception {
        var node = new AgentHarness(dataDir.resolve("walls"), Set.of(), Optional.of(net.config()));
        try {
            var a1 = create(node, "a1", "alpha", true);
            var a2 = create(node, "a2", "alpha", true);
            var b1 = create(node, "b1", "beta", true);
            var b2 = create(node, "b2", "beta", false);
            assertThat(List.of(a1.ip(), a2.ip(), b1.ip(), b2.ip())).doesNotHaveDuplicates()
                    .allSatisfy(ip -> assertThat(ip).startsWith(net.pool.substring(0, net.pool.indexOf(".0.0/")) + "."));
            assertThat(gateway(a1)).isEqualTo(gateway(a2)).isNotEqualTo(gateway(b1));
            assertThat(gateway(b1)).isEqualTo(gateway(b2));

            // A published port of a machine already published by another is refused at create, leaving nothing.
            var devices = net.devices();
            var clash = node.post("/api/v1/machines", """
                    {"namespace": "gamma", "config": {"image": "%s",
                     "services": [{"protocol": "tcp", "internal_port": 80, "port": %d}]}}""".formatted(env.image(), a1.port()));
            assertThat(clash.status()).as(clash.body()).isEqualTo(409);
            assertThat(clash.errorMessage()).contains("tcp port " + a1.port() + " is already published by machine " + a1.id());
            assertThat(net.devices()).isEqualTo(devices);

            for (var vm : List.of(a1, a2, b1, b2)) node.waitFor(vm.id(), "running", 300);
            // The image's own entrypoint serves on the published port, to a client on the host.
            await().atMost(Duration.ofSeconds(60)).until(
                    () -> HostNetworkFixture.fetch("http://" + net.publishAddress + ":" + a1.port() + "/")
                            .equals("hello from the image\n"));
            for (var vm : List.of(a2, b1, b2)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> exec(vm, "hostname").equals(vm.name() + "\nexit=0\n"));
            }
            // Address, gateway and DNS reached the guest through bolero-init.
            assertThat(exec(a1, "ip -4 addr show eth0; ip route; cat /etc/resolv.conf"))
                    .contains("inet " + a1.ip() + "/24").contains("default via " + gateway(a1))
                    .contains("nameserver " + net.uplinkIp);

            // Egress through NAT: the uplink sees the node's address; a machine without egress gets nowhere.
            assertThat(exec(a1, "timeout 5 wget -q -O - http://" + net.uplinkIp + "/cgi-bin/peer"))
                    .isEqualTo(net.publishAddress + "\nexit=0\n");
            assertThat(succeeds(b1, "timeout 5 wget -q -O - http://" + net.uplinkIp + "/")).isTrue();
            assertThat(succeeds(b2, "timeout 5 wget -q -O - http://" + net.uplinkIp + "/")).isFalse();
            assertThat(succeeds(b2, "ping -c 1 -W 3 " + net.uplinkIp)).isFalse();

            // Same namespace: ICMP and TCP pass (also for the machine without egress).
            assertThat(succeeds(a2, "ping -c 1 -W 3 " + a1.ip())).isTrue();
            assertThat(exec(a2, "timeout 5 wget -q -O - http://" + a1.ip() + ":8080/")).startsWith("hello from the image");
            assertThat(succeeds(b2, "ping -c 1 -W 3 " + b1.ip())).isTrue();

            // Across namespaces: no ICMP, no TCP, not even through the other machine's published port or gateway.
            assertThat(succeeds(a1, "ping -c 2 -W 2 " + b1.ip())).isFalse();
            assertThat(succeeds(b1, "ping -c 2 -W 2 " + a1.ip())).isFalse();
            assertThat(succeeds(a2, "timeout 3 wget -q -O - http://" + b1.ip() + ":8080/")).isFalse();
            assertThat(succeeds(b1, "timeout 3 wget -q -O - http://" + a1.ip() + ":8080/")).isFalse();
            assertThat(succeeds(b1, "timeout 3 wget -q -O - http://" + net.publishAddress + ":" + a1.port() + "/")).isFalse();
            assertThat(succeeds(a1, "ping -c 1 -W 2 " + gateway(b1))).isFalse();
            // ARP across namespaces: nobody answers for the other namespace's machine.
            assertThat(succeeds(b1, "arping -c 2 -w 3 -I eth0 " + a1.ip())).isFalse();

            // The host's own services are out of reach, whatever address the guest tries.
            assertThat(HostNetworkFixture.fetch("http://127.0.0.1:" + net.hostServicePort + "/")).as("control").isNotEmpty();
            assertThat(succeeds(a1, "timeout 3 wget -q -O - http://" + gateway(a1) + ":" + net.hostServicePort + "/")).isFalse();
            assertThat(succeeds(a1, "timeout 3 wget -q -O - http://" + net.publishAddress + ":" + net.hostServicePort + "/"))
                    .isFalse();

            // Spoofing: a guest cannot send from an address that is not its own, nor take a neighbour's in ARP.
            String spare = a1.ip().substring(0, a1.ip().lastIndexOf('.')) + ".200";
            assertThat(succeeds(a2, "ping -c 1 -W 3 -I " + a2.ip() + " " + a1.ip())).as("control").isTrue();
            assertThat(succeeds(a2, "ip addr add " + spare + "/24 dev eth0 && ping -c 2 -W 2 -I " + spare + " " + a1.ip()))
                    .isFalse();
            String bridge = HostCommands.sh("ip", "-o", "route", "get", a1.ip()).split(" dev ")[1].split(" ")[0];
            String a1Neighbour = HostCommands.sh("ip", "neigh", "show", a1.ip(), "dev", bridge);
            assertThat(a1Neighbour).contains("lladdr");
            exec(a2, "arping -U -c 3 -I eth0 -s " + a1.ip() + " " + a1.ip());
            exec(a2, "arping -A -c 3 -I eth0 -s " + a1.ip() + " " + gateway(a1));
            assertThat(HostCommands.sh("ip", "neigh", "show", a1.ip(), "dev", bridge).split(" lladdr ")[1].split(" ")[0])
                    .isEqualTo(a1Neighbour.split(" lladdr ")[1].split(" ")[0]);
            assertThat(exec(a1, "hostname")).isEqualTo("a1\nexit=0\n");

            // An agent restart neither duplicates nor loses devices or rules; the machines keep their network.
            String tables = net.tables();
            List<String> ownDevices = net.devices();
            assertThat(ownDevices).hasSize(6);
            node.stopAgent();
            node.start();
            assertThat(net.tables()).isEqualTo(tables);
            assertThat(net.devices()).isEqualTo(ownDevices);
            assertThat(node.get("/api/v1/machines/" + a1.id()).json().path("ip").asString()).isEqualTo(a1.ip());
            assertThat(exec(a1, "timeout 5 wget -q -O - http://" + a2.ip() + ":8080/")).startsWith("hello from the image");

            // Delete: the tap, address and rules go; the last machine of a namespace takes its bridge.
            assertThat(node.delete("/api/v1/machines/" + a2.id() + "?force=true").status()).isEqualTo(204);
            assertThat(net.devices()).hasSize(5);
            assertThat(net.tables()).doesNotContain(a2.ip()).doesNotContain("dport " + a2.port() + " ").contains(a1.ip());
            assertThat(node.delete("/api/v1/machines/" + a1.id() + "?force=true").status()).isEqualTo(204);
            assertThat(net.devices()).hasSize(3).doesNotContain(bridge);
            for (var vm : List.of(b1, b2)) node.delete("/api/v1/machines/" + vm.id() + "?force=true");
            assertThat(net.devices()).isEmpty();
            assertThat(net.tableNames()).isEmpty();
        } finally {
            node.close();
        }
    }

    @Test
    void an_agent_killed_with_sigkill_and_restarted_neither_loses_nor_duplicates_rules_and_devices() throws Exception {
        Path data = dataDir.resolve("killed");
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Dbolero.home=" + System.getProperty("bolero.home"), "-cp", System.getProperty("java.class.path"),
                AgentProcess.class.getName(), data.toString(), net.pool, net.devicePrefix, net.table, net.publishAddress)
                .redirectErrorStream(true).redirectOutput(dataDir.resolve("killed-agent.log").toFile()).start();
        AgentHarness node = null;
        try {
            var log = dataDir.resolve("killed-agent.log");
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("port="));
            var port = Files.readString(log).lines().filter(l -> l.startsWith("port=")).findFirst()
                    .orElseThrow().substring(5);
            int published = HostNetworkFixture.freePort();
            var created = HostCommands.sh("curl", "-sS", "--max-time", "60", "-H", "Content-Type: application/json",
                    "--data-binary", """
                    {"name": "survivor", "namespace": "alpha", "start": true, "config": {"image": "%s",
                     "services": [{"protocol": "tcp", "internal_port": 8080, "port": %d}]}}""".formatted(env.image(), published),
                    "http://127.0.0.1:" + port + "/api/v1/machines");
            var vm = new Vm(ApiJson.mapper().readTree(created).path("id").asString(),
                    "survivor", "", published);
            await().atMost(Duration.ofSeconds(300)).until(
                    () -> HostNetworkFixture.fetch("http://" + net.publishAddress + ":" + published + "/")
                            .equals("hello from the image\n"));
            String tables = net.tables();
            List<String> devices = net.devices();
            assertThat(devices).hasSize(2);

            child.destroyForcibly().waitFor();
            node = new AgentHarness(data, Set.of(), Optional.of(net.config()));
            assertThat(net.tables()).isEqualTo(tables);
            assertThat(net.devices()).isEqualTo(devices);
            JsonNode m = node.get("/api/v1/machines/" + vm.id()).json();
            assertThat(m.path("state").asString()).isEqualTo("running");
            assertThat(exec(vm, "hostname")).isEqualTo("survivor\nexit=0\n");

            assertThat(node.delete("/api/v1/machines/" + vm.id() + "?force=true").status()).isEqualTo(204);
            assertThat(net.devices()).isEmpty();
            assertThat(net.tableNames()).isEmpty();
        } finally {
            child.destroyForcibly().waitFor();
            if (node != null) node.close();
        }
    }

    @Test
    void bad_network_fields_are_400_and_an_agent_without_networking_refuses_to_publish(AgentHarness node) {
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\"}, \"namespace\": \"Not_A_Label\"}").errorMessage())
                .startsWith("namespace must be 1-63 lowercase letters");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"services\": [{\"protocol\": \"sctp\","
                + " \"internal_port\": 1, \"port\": 2}]}}").errorMessage())
                .isEqualTo("config.services[0].protocol must be tcp, udp, got 'sctp'");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"services\": [{\"protocol\": \"tcp\","
                + " \"internal_port\": 1, \"port\": 70000}]}}").errorMessage())
                .isEqualTo("config.services[0].port must be between 1 and 65535, got 70000");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"services\": ["
                + "{\"protocol\": \"udp\", \"internal_port\": 1, \"port\": 53},"
                + "{\"protocol\": \"udp\", \"internal_port\": 2, \"port\": 53}]}}").errorMessage())
                .isEqualTo("config.services[1]: udp port 53 is published twice");
        assertThat(node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"network\": {\"egres\": false}}}").status())
                .isEqualTo(400);

        var refused = node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\", \"services\": [{\"protocol\": \"tcp\","
                + " \"internal_port\": 80, \"port\": 8080}]}}");
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.errorCode()).isEqualTo("failed_precondition");
        assertThat(refused.errorMessage()).endsWith("publishing ports needs networking, and this agent runs without it (--no-network)");
        var plain = node.post("/api/v1/machines", "{\"config\": {\"image\": \"x\"}, \"namespace\": \"alpha\"}").json();
        assertThat(plain.path("ip").isNull()).isTrue();
        assertThat(plain.path("namespace").asString()).isEqualTo("alpha");
        assertThat(plain.path("config").path("network").path("egress").asBoolean()).isTrue();
        assertThat(node.get("/api/v1/machines").json()).hasSize(1);
    }
}
