package dev.bolero.agent;

import dev.bolero.runtime.qemu.QemuDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** An agent in its own JVM for crash tests: {@code AgentProcessMain DATA_DIR PORT_FILE}; runs until killed. */
public final class AgentProcessMain {
    private AgentProcessMain() {}

    public static void main(String[] args) throws Exception {
        Agent agent = Agent.start(new AgentConfig("127.0.0.1", 0, Path.of(args[0]), Set.of(), QemuDriver.Accel.AUTO,
                Optional.empty(), Duration.ofSeconds(180)));
        Path tmp = Path.of(args[1] + ".tmp");
        Files.writeString(tmp, Integer.toString(agent.port()));
        Files.move(tmp, Path.of(args[1]), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(Long.MAX_VALUE);
    }
}
