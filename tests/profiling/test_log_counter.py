"""The log counter: fastseg_process_log_records_total{level,module,function}."""

import logging

import prometheus_client
import pytest

from profiling import LogCounter, install_log_counter


@pytest.fixture
def test_logger():
    """A logger of the test's own, not propagating, so other handlers see nothing."""
    logger = logging.getLogger("tests.profiling.counted")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True


def count(registry, level, function, module="tests.profiling.counted"):
    return registry.get_sample_value(
        "fastseg_process_log_records_total",
        {"level": level, "module": module, "function": function},
    )


def chatty(logger):
    logger.warning("first %s", "warning")
    logger.warning("second")
    logger.info("some info")


def test_counts_records_by_level_module_and_function(registry, test_logger):
    handler = install_log_counter(test_logger, registry=registry)
    assert isinstance(handler, LogCounter)
    chatty(test_logger)
    test_logger.error("from the test")
    assert count(registry, "WARNING", "chatty") == 2
    assert count(registry, "INFO", "chatty") == 1
    assert count(registry, "ERROR", "test_counts_records_by_level_module_and_function") == 1
    assert count(registry, "DEBUG", "chatty") is None


def test_records_below_the_logger_level_are_not_counted(registry, test_logger):
    install_log_counter(test_logger, registry=registry)
    test_logger.setLevel(logging.WARNING)
    chatty(test_logger)
    assert count(registry, "WARNING", "chatty") == 2
    assert count(registry, "INFO", "chatty") is None


def test_installing_twice_counts_once(registry, test_logger):
    first = install_log_counter(test_logger, registry=registry)
    second = install_log_counter(test_logger, registry=registry)
    assert first is second
    assert test_logger.handlers.count(first) == 1
    chatty(test_logger)
    assert count(registry, "WARNING", "chatty") == 2


def test_reinstalling_after_removal_counts_again(registry, test_logger):
    handler = install_log_counter(test_logger, registry=registry)
    test_logger.removeHandler(handler)
    chatty(test_logger)
    assert count(registry, "WARNING", "chatty") is None
    assert install_log_counter(test_logger, registry=registry) is handler
    chatty(test_logger)
    assert count(registry, "WARNING", "chatty") == 2


def test_the_root_logger_is_the_default(registry):
    root = logging.getLogger()
    handler = install_log_counter(registry=registry)
    try:
        assert handler in root.handlers
        logging.getLogger("tests.profiling.via_root").warning("propagated")
        assert (
            count(
                registry,
                "WARNING",
                "test_the_root_logger_is_the_default",
                module="tests.profiling.via_root",
            )
            == 1
        )
    finally:
        root.removeHandler(handler)


def test_a_non_logger_target_is_refused(registry):
    with pytest.raises(TypeError, match="needs a logging.Logger, got 'root'"):
        install_log_counter("root", registry=registry)


def test_a_new_registry_gets_a_handler_of_its_own(test_logger):
    # Regression: handlers were once keyed by id(registry), which a new registry
    # can reuse once the old one is garbage, so its records went nowhere.
    import gc  # noqa: PLC0415 - only this test needs it

    for _ in range(20):
        registry = prometheus_client.CollectorRegistry()
        handler = install_log_counter(test_logger, registry=registry)
        test_logger.warning("counted")
        assert count(registry, "WARNING", "test_a_new_registry_gets_a_handler_of_its_own") == 1
        test_logger.removeHandler(handler)
        del registry, handler
        gc.collect()
