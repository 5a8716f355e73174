package dev.bolero.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import dev.bolero.api.ApiJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;

/**
 * Writes each log event as one line of JSON ({@code --log-format json}): {@code time} (RFC 3339, UTC, with
 * milliseconds), {@code level}, {@code logger}, {@code thread}, {@code message}, and {@code error} (the stack trace)
 * when the event has one. Logback's own JSON encoder writes epoch numbers; log pipelines want dates.
 */
public final class JsonLogEncoder extends EncoderBase<ILoggingEvent> {
    @Override
    public byte[] headerBytes() {
        return null;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        var line = new LinkedHashMap<String, String>();
        line.put("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
        line.put("level", event.getLevel().toString());
        line.put("logger", event.getLoggerName());
        line.put("thread", event.getThreadName());
        line.put("message", event.getFormattedMessage());
        if (event.getThrowableProxy() != null) line.put("error", ThrowableProxyUtil.asString(event.getThrowableProxy()));
        return (ApiJson.mapper().writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] footerBytes() {
        return null;
    }
}
