"""ProS-GAN (Wang et al., CVPR 2021): its networks, losses, training and checkpoints; the attack is
hashdemo.attacks.prosgan."""
