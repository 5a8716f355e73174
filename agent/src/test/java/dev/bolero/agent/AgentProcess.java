package dev.bolero.agent;

import dev.bolero.network.NetworkConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An agent in a process of its own, for tests that kill it with SIGKILL: {@code AgentProcess DATA_DIR POOL
 * DEVICE_PREFIX TABLE PUBLISH_ADDRESS}. Prints {@code port=N} once it serves, then runs until killed.
 */
final class AgentProcess {
    public static void main(String[] args) throws InterruptedException {
        var network = new NetworkConfig(args[1], 24, args[2], args[3], args[4], List.of(), Optional.empty());
        var agent = Agent.start(new AgentConfig("127.0.0.1", 0, Path.of(args[0]), Set.of(), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(180)).withNetwork(Optional.of(network)));
        System.out.println("port=" + agent.port());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
