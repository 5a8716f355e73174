package dev.bolero.cli;

import dev.bolero.core.MachineSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The machine-config flags of {@code bolero run}, {@code bolero fleets create} and {@code bolero fleets update}: each
 * one left out leaves its field unset, so the fleet's config (or the server's default) applies.
 */
final class MachineFlags {
    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "an environment variable; repeatable")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--cpus", description = "vCPUs")
    Integer cpus;

    @Option(names = "--memory", paramLabel = "MiB", description = "memory in MiB")
    Integer memoryMb;

    @Option(names = {"-p", "--publish"}, paramLabel = "HOSTPORT:PORT[/tcp|udp]",
            description = "publish the machine's PORT on its node's HOSTPORT (tcp unless /udp); repeatable")
    List<String> publish = new ArrayList<>();

    @Option(names = "--restart", paramLabel = "no|on-failure|always[:N]",
            description = "restart policy, at most N restarts in a row; also whether the machine moves when its "
                    + "node is lost or drained (default on-failure: it moves)")
    String restart;

    @Option(names = "--rm", description = "delete the machine when its run ends and no restart applies")
    boolean remove;

    @Option(names = "--metadata", paramLabel = "K=V",
            description = "a metadata entry shown with the machine; repeatable")
    Map<String, String> metadata = new LinkedHashMap<>();

    /**
     * The config these flags and {@code image} (null when not given) describe: an overlay, unset where no flag says.
     *
     * @throws IllegalArgumentException (a usage error) naming a bad value
     */
    MachineSpec.Overlay overlay(String image) {
        return MachineSpec.builder().image(image)
                .guest(cpus == null && memoryMb == null ? null : new MachineSpec.Guest(cpus, memoryMb, null))
                .env(env.isEmpty() ? null : env)
                .restart(restart == null ? null : ClusterCommands.restartPolicy(restart))
                .autoDestroy(remove ? true : null)
                .services(publish.isEmpty() ? null : publish.stream().map(ClusterCommands::servicePort).toList())
                .metadata(metadata.isEmpty() ? null : metadata)
                .overlay();
    }
}
