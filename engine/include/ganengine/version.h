#pragma once
namespace ge {
const char* version();  // "0.1.0"
}
