package dev.bolero.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * How a long-running process ({@code server}, {@code agent}, {@code up}, …) writes its log on standard error: text
 * lines with RFC 3339 dates (the default, {@code logback.xml}), or one JSON object a line ({@link JsonLogEncoder}).
 * {@code BOLERO_LOG_FORMAT} sets it for every process; the {@code --log-format} option, mixed into a command, for
 * that one.
 */
final class LogFormat {
    enum Format { TEXT, JSON }

    @Option(names = "--log-format", paramLabel = "FORMAT", description = "text or json (default: "
            + "BOLERO_LOG_FORMAT, else text)")
    void format(Format format) {
        apply(format);
    }

    /** Applies {@code BOLERO_LOG_FORMAT}, if set: before anything logs. */
    static void fromEnvironment() {
        String v = System.getenv("BOLERO_LOG_FORMAT");
        if (v == null || v.isBlank()) return;
        try {
            apply(Format.valueOf(v.strip().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("BOLERO_LOG_FORMAT must be text or json, got '" + v + "'");
        }
    }

    /** Makes the root logger write in {@code format}, replacing its appenders. */
    static void apply(Format format) {
        if (format == Format.TEXT) return; // logback.xml's
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return; // not logback: leave it
        var encoder = new JsonLogEncoder();
        encoder.setContext(context);
        encoder.start();
        var appender = new ConsoleAppender<ILoggingEvent>();
        appender.setContext(context);
        appender.setName("JSON");
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }
}
