// The federated plugin's stage types: splitting data among clients and averaging their models.
#pragma once

#include "pipeline/stage.hpp"

namespace pipeline::federated {

StageInfo federated_split_stage();
StageInfo fedavg_stage();

}  // namespace pipeline::federated
