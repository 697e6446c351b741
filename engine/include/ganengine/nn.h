#pragma once
// The nn layers in one include.
#include "ganengine/nn/activation.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/embedding.h"
#include "ganengine/nn/init.h"
#include "ganengine/nn/instance_norm.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/module.h"
#include "ganengine/nn/padding.h"
#include "ganengine/nn/sequential.h"
#include "ganengine/nn/stylegan.h"
