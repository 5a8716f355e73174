package dev.bolero.cli;

import dev.bolero.agent.Agent;
import dev.bolero.agent.AgentConfig;
import dev.bolero.runtime.qemu.QemuDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bolero agent}: runs the node agent until interrupted. Machines keep running when it exits. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run the node agent.")
final class AgentCommand implements Callable<Integer> {
    @Option(names = "--listen", defaultValue = "127.0.0.1:7070", description = "host:port of the node API (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--data-dir", defaultValue = "/var/lib/bolero", description = "where the agent keeps its state (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--insecure-registry", description = "a registry host:port reached over plain HTTP (loopback ones always are)")
    List<String> insecureRegistries = new ArrayList<>();

    @Option(names = "--accel", defaultValue = "auto", description = "auto, kvm or tcg (default ${DEFAULT-VALUE})")
    QemuDriver.Accel accelerator;

    @Option(names = "--kernel", description = "guest kernel (vmlinuz or vmlinux); default: the newest under /boot")
    Path kernel;

    @Option(names = "--boot-timeout", defaultValue = "120", description = "seconds a guest may take to start its workload (default ${DEFAULT-VALUE})")
    int bootTimeoutSeconds;

    @Option(names = "--cpu-overcommit", defaultValue = "8", description = "vCPUs per host CPU the machines may have together (default ${DEFAULT-VALUE})")
    double cpuOvercommit;

    @Option(names = "--memory-overcommit", defaultValue = "1", description = "how many times the host's memory the machines may have together (default ${DEFAULT-VALUE})")
    double memoryOvercommit;

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("--listen must be host:port, got '" + listen + "'");
        AgentConfig config = new AgentConfig(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)),
                dataDir.toAbsolutePath(), new HashSet<>(insecureRegistries), accelerator, Optional.ofNullable(kernel),
                Duration.ofSeconds(bootTimeoutSeconds), cpuOvercommit, memoryOvercommit);
        CountDownLatch stopped = new CountDownLatch(1);
        try (Agent agent = Agent.start(config)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                agent.close();
                stopped.countDown();
            }, "agent-shutdown"));
            System.out.printf("bolero agent listening on http://%s:%d (data dir %s)%n", config.host(), agent.port(),
                    config.dataDir());
            stopped.await();
        }
        return 0;
    }
}
