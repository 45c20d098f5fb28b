// A shared library that is not a plugin: it has no entry point.
extern "C" int not_a_plugin() { return 42; }
