package dev.bolero.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.api.wire.CreateClusterMachine;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.client.BoleroClient;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.network.testing.HostCommands;
import dev.bolero.oci.testing.ImageSpec;
import dev.bolero.oci.testing.TestImages;
import dev.bolero.oci.testing.TestRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bolero up --gateway-listen} with machine networking, as a user runs it on one host: the node joins the private
 * network (its link on loopback, a free port), so a fleet's machine — a real QEMU microVM — has a private address, answers through
 * the gateway by host name, and once stopped wakes on the next request. The node's devices, link and tables carry a
 * prefix of this test's and are deleted afterwards, also when it fails.
 */
class UpEndToEndTest {
    private static final Pattern READY = Pattern.compile(
            "bolero up: server (http://\\S+) .*node API http://127\\.0\\.0\\.1:(\\d+).*gateway http on port (\\d+)");

    @TempDir
    Path dir;

    @Test
    void a_fleet_s_machine_answers_through_up_s_gateway_at_its_private_address_and_wakes_on_request() throws Exception {
        HostCommands.assumeRootWith("for taps, bridges, nftables and the private network's link",
                "ip", "nft", "wireguard-go", "wg");
        assumeTrue(!HostCommands.sh("ip", "-4", "route").contains("10.0.0.0/24"),
                "the host routes 10.0.0.0/24 already: the private network's first namespace subnet");
        String prefix = "u" + HostCommands.randomId();
        String table = "bolero_" + prefix;
        try (var registry = TestRegistry.start()) {
            String image = TestImages.push(registry, "upgw/web:1", ImageSpec.cmd("sh", "-c",
                    "mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www"));
            List<String> command = new ArrayList<>(CliProcess.javaCommand());
            command.addAll(List.of("up", "--data-dir", dir.resolve("data").toString(), "--listen", "127.0.0.1:0",
                    "--agent-listen", "127.0.0.1:0", "--network-device-prefix", prefix, "--nft-table", table,
                    "--gateway-listen", "127.0.0.1:0"));
            Path out = dir.resolve("up.out");
            Process up = CliProcess.builder(dir, command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            BoleroClient admin = null;
            String machine = null;
            int agentPort = 0;
            try {
                Matcher ready = UpCommandTest.awaitReady(up, out, READY);
                admin = new BoleroClient(URI.create(ready.group(1)), UpCommandTest.adminToken(out));
                agentPort = Integer.parseInt(ready.group(2));
                int gatewayPort = Integer.parseInt(ready.group(3));

                var service = new MachineSpec.HttpService(8080, null, null, true, null, null, null);
                admin.createFleet("default", new FleetSpec("web", null, null, Map.of(),
                        MachineSpec.builder(image).httpService(service).overlay()));
                machine = admin.createMachine("default", "web", CreateClusterMachine.START).id();
                var running = admin.await("default", machine, Set.of(MachineState.RUNNING, MachineState.FAILED),
                        Duration.ofSeconds(180));
                assertThat(running.state()).as("%s", running).isEqualTo(MachineState.RUNNING);
                assertThat(running.privateIp()).as("a private address from the private network").startsWith("10.");

                String answer = "";
                long answered = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!answer.startsWith("HTTP/1.1 200")) {
                    assertThat(System.nanoTime()).as("the machine answers through the gateway; last: %s; log: %s",
                            answer, Files.readString(out)).isLessThan(answered);
                    answer = UpCommandTest.get(gatewayPort, "web.default.localhost");
                    if (!answer.startsWith("HTTP/1.1 200")) Thread.sleep(300);
                }
                assertThat(answer).contains(machine);

                admin.stop("default", machine, null);
                assertThat(admin.await("default", machine, Set.of(MachineState.STOPPED), Duration.ofSeconds(120))
                        .state()).isEqualTo(MachineState.STOPPED);
                String woken = UpCommandTest.get(gatewayPort, "web.default.localhost", Duration.ofSeconds(120));
                assertThat(woken).as("the stopped machine woken by the request").startsWith("HTTP/1.1 200")
                        .contains(machine);
            } finally {
                try {
                    if (admin != null && machine != null) admin.delete("default", machine);
                    // The node destroys it at its next poll; the agent keeps nothing of it after that.
                    long gone = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (agentPort != 0 && System.nanoTime() < gone
                            && !HostCommands.run("curl", "-s", "http://127.0.0.1:" + agentPort + "/api/v1/machines")
                                    .out().strip().equals("[]")) {
                        Thread.sleep(300);
                    }
                } finally {
                    up.destroy();
                    if (!up.waitFor(30, TimeUnit.SECONDS)) up.destroyForcibly().waitFor();
                    // What an agent keeps for its next start: its bridges, taps, link and tables.
                    for (String device : HostCommands.devices(HostCommands.HOST, prefix)) {
                        HostCommands.run("ip", "link", "del", device);
                    }
                    HostCommands.run("nft", "delete", "table", "inet", table);
                    HostCommands.run("nft", "delete", "table", "bridge", table);
                }
            }
            assertThat(HostCommands.devices(HostCommands.HOST, prefix)).isEmpty();
        }
    }
}
