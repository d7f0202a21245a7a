// Stripe Payment Element: confirms the PaymentIntent in the browser; the webhook books the order.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret, locale: "fr-CA" });
  elements.create("payment").mount("#payment-element");
  var errorBox = document.getElementById("payment-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    document.getElementById("pay").disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          errorBox.textContent = result.error.type === "card_error" ? "Votre carte a été refusée." : result.error.message;
          errorBox.hidden = false;
          document.getElementById("pay").disabled = false;
        }
      });
  });
})();
