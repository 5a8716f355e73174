package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** The runner of each machine of the node, by machine id; a runner leaves when its machine is deleted. Thread-safe. */
final class Runners {
    private final MachineRunner.Context context;
    private final Map<String, MachineRunner> runners = new ConcurrentHashMap<>();

    Runners(MachineRunner.Context context) {
        this.context = context;
    }

    /** A runner for a new (or, at agent start, a stored) machine. */
    MachineRunner add(String id) {
        MachineRunner runner = new MachineRunner(id, context, deleted -> runners.remove(id, deleted));
        if (runners.putIfAbsent(id, runner) != null) throw new IllegalStateException("machine " + id + " has a runner");
        return runner;
    }

    /** @throws ApiException {@code not_found} */
    MachineRunner get(String id) {
        MachineRunner r = runners.get(id);
        if (r == null) throw ApiException.notFound("machine " + id + " not found");
        return r;
    }

    /** Lets go of every machine without touching its VMM (agent shutdown); waits until each runner has. */
    void detachAll() {
        List<MachineRunner> all = List.copyOf(runners.values());
        runners.clear();
        all.stream()
                .map(r -> {
                    var reply = new CompletableFuture<Void>();
                    r.post(new RunnerCommand.Detach(reply));
                    return reply;
                })
                .toList()
                .forEach(CompletableFuture::join);
    }
}
