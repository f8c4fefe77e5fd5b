//! Adam with per-group learning rates (CAM grids learn at their own multiple of the rate).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

/// First-moment decay (instant-ngp's and PyTorch's 0.9).
const BETA1: f64 = 0.9;
/// Second-moment decay (instant-ngp's 0.99: faster adaptation for sparse grid entries).
const BETA2: f64 = 0.99;
/// Denominator epsilon (instant-ngp's 1e-15).
const EPS: f64 = 1e-15;

/// One variable with its moment estimates.
struct Slot {
    var: Var,
    m: Tensor,
    v: Tensor,
}

/// Adam (Kingma and Ba) without weight decay, over groups of variables that each have a learning
/// rate.
pub(crate) struct Adam {
    groups: Vec<(f64, Vec<Slot>)>,
    step: i32,
}

impl Adam {
    /// An optimiser over `groups` of (learning rate, variables).
    pub(crate) fn new(groups: Vec<(f64, Vec<Var>)>) -> candle_core::Result<Self> {
        let groups = groups
            .into_iter()
            .map(|(lr, vars)| {
                let slots = vars
                    .into_iter()
                    .map(|var| {
                        let m = var.zeros_like()?;
                        let v = var.zeros_like()?;
                        Ok(Slot { var, m, v })
                    })
                    .collect::<candle_core::Result<Vec<_>>>()?;
                Ok((lr, slots))
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self { groups, step: 0 })
    }

    /// One update from `grads`, every learning rate multiplied by `lr_factor`. Variables without a
    /// gradient (not reached by the loss) are left alone.
    pub(crate) fn step(&mut self, grads: &GradStore, lr_factor: f64) -> candle_core::Result<()> {
        self.step += 1;
        let correction1 = 1.0 - BETA1.powi(self.step);
        let correction2 = 1.0 - BETA2.powi(self.step);
        for (lr, slots) in &mut self.groups {
            let step_size = *lr * lr_factor * correction2.sqrt() / correction1;
            let eps = EPS * correction2.sqrt();
            for slot in slots.iter_mut() {
                let Some(grad) = grads.get(slot.var.as_tensor()) else {
                    continue;
                };
                slot.m = ((&slot.m * BETA1)? + (grad * (1.0 - BETA1))?)?;
                slot.v = ((&slot.v * BETA2)? + (grad.sqr()? * (1.0 - BETA2))?)?;
                let update = (&slot.m / (slot.v.sqrt()? + eps)?)?;
                slot.var.set(&(slot.var.as_tensor() - (update * step_size)?)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::Adam;

    #[test]
    fn minimises_a_quadratic_with_group_learning_rates() {
        let device = Device::Cpu;
        let a = Var::from_tensor(&Tensor::new(&[3.0f32, -2.0], &device).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[5.0f32], &device).unwrap()).unwrap();
        let mut adam = Adam::new(vec![(0.05, vec![a.clone()]), (0.5, vec![b.clone()])]).unwrap();
        for _ in 0..400 {
            let loss = (a.as_tensor().sqr().unwrap().sum_all().unwrap()
                + b.as_tensor().sqr().unwrap().sum_all().unwrap())
            .unwrap();
            adam.step(&loss.backward().unwrap(), 1.0).unwrap();
        }
        let a = a.as_tensor().to_vec1::<f32>().unwrap();
        let b = b.as_tensor().to_vec1::<f32>().unwrap();
        assert!(a.iter().chain(&b).all(|v| v.abs() < 0.05), "{a:?} {b:?}");
    }
}
