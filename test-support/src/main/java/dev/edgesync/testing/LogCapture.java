package dev.edgesync.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/** Collects the events logged by one class while a test runs, so tests can assert on them. */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Class<?> source) {
    this.logger = (Logger) LoggerFactory.getLogger(source);
    appender.start();
    logger.addAppender(appender);
  }

  /** Starts capturing what {@code source} logs, until {@link #close()}. */
  public static LogCapture of(Class<?> source) {
    return new LogCapture(source);
  }

  /** Returns the formatted messages logged at exactly {@code level}, oldest first. */
  public List<String> messages(Level level) {
    // AppenderBase.doAppend synchronises on the appender, so the same lock guards the list.
    synchronized (appender) {
      return appender.list.stream()
          .filter(event -> event.getLevel() == level)
          .map(ILoggingEvent::getFormattedMessage)
          .collect(Collectors.toList());
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
