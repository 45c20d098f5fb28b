// Parameter checks live in the SDK (pipeline/schema.hpp) so plugins can check nested schemas.
#pragma once

#include "pipeline/schema.hpp"
