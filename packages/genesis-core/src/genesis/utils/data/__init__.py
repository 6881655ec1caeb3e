"""Datasets and loaders with PyTorch's names and semantics."""

from genesis.utils.data.dataloader import DataLoader, default_collate
from genesis.utils.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from genesis.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "random_split",
]
