package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.wire.SecretValue;
import dev.bolero.core.MachineSpec;
import dev.bolero.runtime.guest.GuestSecret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The machines' secrets: their values as the control plane last sent them ({@link #put}), kept in this process's
 * memory only — never in the store, the logs or the machine's files — and added to each run's guest config at
 * {@link #prepare}. An agent that restarts has none until its first assignments answer brings them again, so a run
 * prepared meanwhile (a re-adopted guest asking for its config again) waits for them up to {@link #WAIT}. A machine
 * created through the node's own API has no secrets (it refuses them). Thread-safe.
 */
final class SecretsHook implements MachineHook {
    /** How long a run waits for values its machine needs. */
    static final Duration WAIT = Duration.ofSeconds(30);

    /** Machine id → secret name → value. Guarded by this. */
    private final Map<String, Map<String, String>> values = new HashMap<>();
    private final Duration wait;

    SecretsHook() {
        this(WAIT);
    }

    SecretsHook(Duration wait) {
        this.wait = wait;
    }

    /** Replaces the values known for machine {@code id} with {@code secrets}. */
    synchronized void put(String id, List<SecretValue> secrets) {
        var byName = new HashMap<String, String>();
        secrets.forEach(s -> byName.put(s.name(), s.value()));
        values.put(id, byName);
        notifyAll();
    }

    /**
     * Adds the values of the machine's {@code config.secrets} to the launch, waiting for them up to the hook's wait.
     *
     * @throws ApiException {@code failed_precondition} naming (never showing) the secrets whose values are missing
     */
    @Override
    public void prepare(Launch launch) {
        List<MachineSpec.Secret> wanted = launch.machine().config().secrets();
        if (wanted.isEmpty()) return;
        String id = launch.machine().id();
        Map<String, String> known = await(id, wanted);
        var given = new ArrayList<GuestSecret>();
        var missing = new ArrayList<String>();
        for (MachineSpec.Secret s : wanted) {
            String value = known.get(s.name());
            if (value == null) {
                if (!missing.contains(s.name())) missing.add(s.name());
            } else {
                given.add(s.env() != null ? new GuestSecret.Variable(s.env(), value) : new GuestSecret.File(s.path(),
                        value));
            }
        }
        if (!missing.isEmpty()) {
            throw ApiException.failedPrecondition("start machine " + id + ": no value for secret"
                    + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing) + " came from the control plane"
                    + " (was it deleted? a machine created through a node's own API has no secrets)");
        }
        launch.secrets(given);
    }

    @Override
    public void deleted(String machineId) {
        synchronized (this) {
            values.remove(machineId);
        }
    }

    /** The values known for machine {@code id} once all of {@code wanted} are, or at the end of the wait. */
    private synchronized Map<String, String> await(String id, List<MachineSpec.Secret> wanted) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                Map<String, String> known = values.getOrDefault(id, Map.of());
                long left = deadline - System.nanoTime();
                if (wanted.stream().allMatch(s -> known.containsKey(s.name())) || left <= 0) return Map.copyOf(known);
                wait(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.copyOf(values.getOrDefault(id, Map.of()));
        }
    }
}
