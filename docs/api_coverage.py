"""Which of the PyTorch names that training scripts use every day Genesis has.

``python docs/api_coverage.py`` rewrites ``docs/api-coverage.md`` from the running code:
each name below is looked up in Genesis (``import genesis as torch`` code finds it, or not).
``tests/test_api_coverage.py`` fails when the committed page differs from what this prints,
so the page always says what the code does.
"""

from __future__ import annotations

import importlib
import pathlib
import sys

#: namespace (as PyTorch code spells it) -> the names, grouped as a reader looks for them
NAMES = {
    "torch": """
        tensor as_tensor from_numpy zeros ones empty full arange linspace logspace eye
        zeros_like ones_like empty_like full_like rand randn randint randperm rand_like
        randn_like randint_like normal bernoulli multinomial poisson manual_seed seed
        get_rng_state set_rng_state Generator
        cat concat stack hstack vstack dstack column_stack split chunk tensor_split unbind
        reshape view squeeze unsqueeze flatten unflatten permute transpose t movedim
        moveaxis narrow flip fliplr flipud roll rot90 repeat_interleave tile broadcast_to
        broadcast_tensors meshgrid tril triu diag diagonal diag_embed trace
        gather scatter scatter_add scatter_reduce index_select index_add index_copy
        index_fill masked_fill masked_select take_along_dim where nonzero argwhere isin
        add sub mul div true_divide floor_divide remainder fmod pow neg abs sign exp
        exp2 expm1 log log2 log10 log1p sqrt rsqrt square reciprocal sin cos tan asin acos
        atan atan2 sinh cosh tanh asinh acosh atanh sigmoid erf erfinv floor ceil trunc
        round frac clamp clip lerp hypot logaddexp copysign xlogy maximum minimum
        nan_to_num
        sum mean prod max min amax amin aminmax argmax argmin var std var_mean std_mean
        logsumexp cumsum cumprod cummax cummin logcumsumexp diff norm count_nonzero all
        any median mode kthvalue topk sort argsort unique unique_consecutive
        searchsorted bucketize bincount histc
        eq ne lt le gt ge equal allclose isclose isnan isinf isfinite isneginf isposinf
        logical_and logical_or logical_xor logical_not
        matmul mm bmm mv dot vdot outer einsum tensordot addmm addmv baddbmm cross cdist
        inverse det
        float32 float64 float16 bfloat16 int8 uint8 int16 int32 int64 bool float double
        half long int Size finfo iinfo get_default_dtype set_default_dtype promote_types
        result_type is_tensor numel is_floating_point
        device no_grad enable_grad set_grad_enabled is_grad_enabled inference_mode
        save load set_printoptions softmax log_softmax
        """,
    "torch.Tensor": """
        shape size dim ndim numel dtype device requires_grad grad is_leaf grad_fn
        item tolist numpy to cpu cuda float double half long int bool type type_as
        clone detach detach_ contiguous is_contiguous view view_as reshape reshape_as
        expand expand_as repeat permute transpose t T mT squeeze unsqueeze flatten
        unflatten unfold narrow chunk split unbind flip roll
        backward register_hook register_post_accumulate_grad_hook retain_grad requires_grad_
        zero_ fill_ copy_ add_ sub_
        mul_ div_ clamp_ uniform_ normal_ bernoulli_ exponential_ masked_fill_
        index_add_ scatter_ scatter_add_ new_tensor new_zeros new_ones new_full new_empty
        element_size nbytes stride storage_offset softmax log_softmax norm sum mean max
        min argmax topk sort cumsum isnan any all
        """,
    "torch.nn.functional": """
        linear bilinear relu relu6 leaky_relu elu selu celu gelu silu mish softplus
        hardswish hardsigmoid hardtanh prelu glu logsigmoid softsign tanhshrink sigmoid
        tanh softmax log_softmax softmin gumbel_softmax dropout dropout1d dropout2d
        alpha_dropout layer_norm rms_norm batch_norm group_norm instance_norm
        local_response_norm normalize embedding embedding_bag one_hot pad
        cross_entropy nll_loss mse_loss l1_loss smooth_l1_loss huber_loss
        binary_cross_entropy binary_cross_entropy_with_logits kl_div margin_ranking_loss
        triplet_margin_loss cosine_embedding_loss poisson_nll_loss gaussian_nll_loss
        cosine_similarity pairwise_distance scaled_dot_product_attention
        conv1d conv2d conv3d conv_transpose1d conv_transpose2d unfold fold max_pool1d
        max_pool2d avg_pool1d avg_pool2d adaptive_avg_pool1d adaptive_avg_pool2d
        adaptive_max_pool2d interpolate grid_sample affine_grid pixel_shuffle
        max_unpool2d adaptive_max_pool1d lp_pool2d pixel_unshuffle channel_shuffle dropout3d
        """,
    "torch.nn": """
        Module Sequential ModuleList ModuleDict Parameter ParameterList ParameterDict
        Linear Bilinear Identity Embedding EmbeddingBag Flatten Unflatten Dropout Dropout1d
        Dropout2d AlphaDropout LayerNorm RMSNorm BatchNorm1d BatchNorm2d BatchNorm3d GroupNorm
        InstanceNorm1d InstanceNorm2d LocalResponseNorm
        ReLU ReLU6 LeakyReLU ELU SELU CELU GELU SiLU Mish Softplus Hardswish Hardsigmoid
        Hardtanh PReLU GLU Sigmoid Tanh LogSigmoid Softsign Tanhshrink Softmax LogSoftmax
        Softmin
        CrossEntropyLoss NLLLoss MSELoss L1Loss SmoothL1Loss HuberLoss BCELoss
        BCEWithLogitsLoss KLDivLoss MarginRankingLoss TripletMarginLoss
        CosineEmbeddingLoss PoissonNLLLoss GaussianNLLLoss CosineSimilarity
        PairwiseDistance MultiheadAttention
        Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d MaxPool1d MaxPool2d AvgPool1d
        AvgPool2d AdaptiveAvgPool2d Upsample RNN LSTM GRU RNNCell LSTMCell GRUCell
        TransformerEncoderLayer TransformerEncoder TransformerDecoderLayer Transformer
        TransformerDecoder ChannelShuffle Fold Unfold PixelShuffle PixelUnshuffle
        MaxUnpool2d AdaptiveMaxPool2d LPPool2d ConvTranspose3d InstanceNorm3d Dropout3d
        SyncBatchNorm
        """,
    "torch.linalg": """
        norm vector_norm matrix_norm inv solve det slogdet svd svdvals qr cholesky eigh
        eigvalsh cross matmul multi_dot pinv lstsq eig
        """,
    "torch.optim": """
        SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam LBFGS
        """,
    "torch.optim.lr_scheduler": """
        LambdaLR MultiplicativeLR StepLR MultiStepLR ConstantLR LinearLR ExponentialLR
        PolynomialLR CosineAnnealingLR CosineAnnealingWarmRestarts CyclicLR OneCycleLR
        SequentialLR ChainedScheduler ReduceLROnPlateau
        """,
    "torch.utils.data": """
        Dataset IterableDataset TensorDataset ConcatDataset ChainDataset StackDataset Subset
        DataLoader get_worker_info Sampler SequentialSampler RandomSampler SubsetRandomSampler
        BatchSampler WeightedRandomSampler random_split default_collate default_convert
        DistributedSampler
        """,
    "torch.autograd": """
        grad backward Function gradcheck no_grad enable_grad set_grad_enabled
        """,
    "torch.nn.utils": """
        clip_grad_norm_ clip_grad_value_ parameters_to_vector vector_to_parameters
        """,
    "torch.nn.utils.rnn": """
        PackedSequence pack_padded_sequence pad_packed_sequence pad_sequence pack_sequence
        unpad_sequence
        """,
    "torch.amp": """
        autocast GradScaler
        """,
    "torch.distributed": """
        init_process_group all_reduce broadcast barrier get_rank get_world_size
        is_available is_initialized get_backend destroy_process_group new_group ReduceOp
        reduce all_gather all_gather_into_tensor reduce_scatter_tensor gather scatter
        all_to_all_single send recv isend irecv broadcast_object_list all_gather_object
        """,
    "torch.nn.parallel": """
        DistributedDataParallel
        """,
    "torch.nn.utils.parametrizations": """
        weight_norm spectral_norm
        """,
    "torch.nn.init": """
        uniform_ normal_ constant_ ones_ zeros_ eye_ xavier_uniform_ xavier_normal_
        kaiming_uniform_ kaiming_normal_ trunc_normal_ orthogonal_
        """,
}


def _namespace(torch_name: str):
    """The Genesis object a ``torch.*`` namespace maps to (None if it is missing)."""
    if torch_name == "torch.Tensor":
        import genesis
        return genesis.Tensor
    try:
        return importlib.import_module("genesis" + torch_name[len("torch"):])
    except ImportError:
        return None


def coverage() -> dict:
    """namespace -> (present names, missing names), in the order listed."""
    result = {}
    for ns, names in NAMES.items():
        obj = _namespace(ns)
        present, missing = [], []
        for name in names.split():
            (present if obj is not None and hasattr(obj, name) else missing).append(name)
        result[ns] = (present, missing)
    return result


def render() -> str:
    """The Markdown page."""
    table = coverage()
    total = sum(len(p) + len(m) for p, m in table.values())
    have = sum(len(p) for p, _ in table.values())
    lines = [
        "# PyTorch API coverage",
        "",
        "Generated by `python docs/api_coverage.py` from the code (a test keeps it current).",
        f"Of {total} PyTorch names that everyday training scripts use, Genesis has {have}.",
        "A name listed as supported exists under the same namespace with PyTorch's",
        "signature and semantics (each has tests against PyTorch); the not-yet list is",
        "what `import genesis as torch` code cannot call today.",
        "",
        "| namespace | supported | not yet |",
        "| --- | --- | --- |",
    ]
    for ns, (present, missing) in table.items():
        lines.append(f"| `{ns}` | {len(present)} | {len(missing)} |")
    for ns, (present, missing) in table.items():
        lines += ["", f"## `{ns}`", "",
                  f"Supported ({len(present)}): " + ", ".join(f"`{n}`" for n in present) + ".",
                  ""]
        lines.append("Not yet (" + str(len(missing)) + "): " +
                     (", ".join(f"`{n}`" for n in missing) + "." if missing else "none."))
    return "\n".join(lines) + "\n"


PAGE = pathlib.Path(__file__).with_name("api-coverage.md")

if __name__ == "__main__":
    PAGE.write_text(render())
    print(f"wrote {PAGE}", file=sys.stderr)
