package dev.bolero.network;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * nftables through libnftables in this process (java.lang.foreign): one transaction costs about a millisecond,
 * where starting {@code nft -f -} costs tens of milliseconds on a busy host. The context's netlink socket is opened
 * when the context is made, in the network namespace of the thread making it; a context for another namespace is
 * therefore made through {@link NetnsThread}.
 */
final class LibNftables implements AutoCloseable {

    private final MethodHandle run;
    private final MethodHandle errorBuffer;
    private final MethodHandle free;
    private final MemorySegment ctx;
    private boolean closed;

    /** @throws NetworkException HOST if libnftables cannot be loaded or the namespace cannot be joined */
    LibNftables(Optional<String> netns) throws NetworkException {
        var linker = Linker.nativeLinker();
        SymbolLookup nft;
        try {
            nft = SymbolLookup.libraryLookup("libnftables.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw new NetworkException(NetworkException.Kind.HOST, "load libnftables.so.1 (Debian package libnftables1): " + e.getMessage(), e);
        }
        var newCtx = linker.downcallHandle(nft.findOrThrow("nft_ctx_new"),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        var bufferError = linker.downcallHandle(nft.findOrThrow("nft_ctx_buffer_error"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        var bufferOutput = linker.downcallHandle(nft.findOrThrow("nft_ctx_buffer_output"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        run = linker.downcallHandle(nft.findOrThrow("nft_run_cmd_from_buffer"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        errorBuffer = linker.downcallHandle(nft.findOrThrow("nft_ctx_get_error_buffer"),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        free = linker.downcallHandle(nft.findOrThrow("nft_ctx_free"), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

        MemorySegment made;
        Callable<MemorySegment> make = () -> {
            try {
                return (MemorySegment) newCtx.invokeExact(0);
            } catch (Throwable t) {
                throw new IllegalStateException("nft_ctx_new: " + t, t);
            }
        };
        try {
            made = netns.isPresent() ? NetnsThread.call(netns.get(), make) : make.call();
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new NetworkException(NetworkException.Kind.HOST, "open nftables context"
                    + netns.map(n -> " in network namespace " + n).orElse("") + ": " + e.getMessage(), e);
        }
        if (made == null || made.equals(MemorySegment.NULL)) {
            throw new NetworkException(NetworkException.Kind.HOST, "open nftables context"
                    + netns.map(n -> " in network namespace " + n).orElse("") + ": nft_ctx_new failed");
        }
        ctx = made;
        try {
            int e = (int) bufferError.invokeExact(ctx);
            int o = (int) bufferOutput.invokeExact(ctx);
            if (e != 0 || o != 0) throw new IllegalStateException("nft_ctx_buffer_* failed");
        } catch (Throwable t) {
            close();
            throw new NetworkException(NetworkException.Kind.HOST, "open nftables context: " + t.getMessage(), t);
        }
    }

    /** Runs a script as one transaction. @throws NetworkException HOST with nft's error text on failure */
    synchronized void run(String action, String script) throws NetworkException {
        if (closed) throw new IllegalStateException("nftables context closed");
        try (var arena = Arena.ofConfined()) {
            int rc = (int) run.invokeExact(ctx, arena.allocateFrom(script));
            if (rc != 0) {
                var error = ((MemorySegment) errorBuffer.invokeExact(ctx)).reinterpret(Long.MAX_VALUE).getString(0);
                throw new NetworkException(NetworkException.Kind.HOST, action + ": nft: " + error.strip());
            }
        } catch (NetworkException e) {
            throw e;
        } catch (Throwable t) {
            throw new NetworkException(NetworkException.Kind.HOST, action + ": nft: " + t, t);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            free.invokeExact(ctx);
        } catch (Throwable t) {
            throw new IllegalStateException("nft_ctx_free", t);
        }
    }
}
