// Compiled by the layers_hold test, which passes only when this fails: the
// I/O loop's layer lies below the actors and must not see their headers.
#include "net/io_loop.hpp"
#include "actors/interfaces.hpp"
