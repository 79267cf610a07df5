// Compiled by the layers_allow test: the I/O loop's layer sees its own
// headers and those of the layers below it (TLS, metrics).
#include "metrics/service_metrics.hpp"
#include "net/io_loop.hpp"
#include "tls/tls_context.hpp"
